// confirm: host (issue 13) against Debian's mosquitto killed with kill -9 within 200 ms of the
// replay starting. Mosquitto runs without persistence, so the crash loses every message it
// held, PUBACKed or not, and the retained ack: only the consumer's ack can delete a record.
// The consumer commits (here: appends to its store) and publishes Deduper.acks() after each
// commit, and acks({ all: true }) after each of its own reconnects.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bridge } from '../src/bridge/bridge.js';
import { extractDedupKey } from '../src/bridge/dedup-key.js';
import { Deduper } from '../src/bridge/deduper.js';
import { bridgeOptionsFromConfig } from '../src/bridge/from-config.js';
import { upstreamSchema } from '../src/config/sections/upstream.js';
import { openStore } from '../src/store/open-store.js';
import { until } from './helpers/bridge-fixture.js';
import { Mosquitto } from './helpers/mosquitto.js';
import { sample, sampleNumber } from './helpers/records.js';

const N = 6000;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fg-mosq-host-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A central consumer: dedup, commit every 50 ms, then publish the acks (retained, QoS 1). */
function startConsumer(url: string): { committed: Set<number>; deliveries: () => number; stop: () => void } {
  const deduper = new Deduper();
  const committed = new Set<number>();
  let pending: number[] = [];
  let deliveries = 0;
  const client = mqtt.connect(url, { protocolVersion: 5, clientId: 'central-host', reconnectPeriod: 100, connectTimeout: 2000 });
  client.on('connect', () => {
    client.subscribe('spBv1.0/#', { qos: 1 });
    // After our own reconnect: say again where we are (the broker may have lost the retained ack).
    for (const a of deduper.acks({ all: true })) client.publish(a.topic, a.payload, { qos: 1, retain: true });
  });
  client.on('error', () => undefined);
  client.on('message', (_t, payload, packet) => {
    const key = extractDedupKey({ payload, userProperties: packet.properties?.userProperties });
    if (key === undefined) return;
    deliveries += 1;
    if (deduper.accept(key)) pending.push(sampleNumber(payload));
  });
  const timer = setInterval(() => {
    // The commit: durable on the consumer's side before any ack says so.
    for (const n of pending) committed.add(n);
    pending = [];
    if (client.connected) for (const a of deduper.acks()) client.publish(a.topic, a.payload, { qos: 1, retain: true });
  }, 50);
  return { committed, deliveries: () => deliveries, stop: () => { clearInterval(timer); client.end(true); } };
}

describe('mosquitto kill -9 mid-replay, confirm: host', () => {
  it('loses nothing: records leave the outbox only once the consumer has committed them', async () => {
    const mosq = await Mosquitto.start();
    const store = openStore({ path: join(dir, 'host.db'), maxBytes: 1 << 30, maxAgeMs: 86_400_000, onFull: 'drop-oldest', synchronous: 'normal' });
    store.outbox.append(Array.from({ length: N }, (_, i) => sample(`d${i % 30}`, i + 1, 0)));
    const consumer = startConsumer(mosq.url);
    const cfg = upstreamSchema.parse({ url: mosq.url, confirm: 'host', reconnect: { min: '100ms', max: '1s' } });
    const bridge = new Bridge({ ...bridgeOptionsFromConfig(cfg, { group: 'g', node: 'node' }), outbox: store.outbox });
    try {
      await until(() => consumer.deliveries() >= 0, 10, 'consumer');
      bridge.start();
      await until(() => bridge.isConnected, 10_000, 'connected');
      const startedAt = Date.now();
      await new Promise((r) => setTimeout(r, 20 + Math.floor(Math.random() * 130)));
      const killedAfter = Date.now() - startedAt;
      const depthAtKill = store.outbox.stats().depth;
      await mosq.kill9();
      const received = consumer.committed.size;
      await new Promise((r) => setTimeout(r, 300));
      await mosq.launchAgain();
      await until(() => store.outbox.stats().depth === 0, 60_000, 'outbox drained by the consumer acks');
      const missing = Array.from({ length: N }, (_, i) => i + 1).filter((n) => !consumer.committed.has(n));
      console.log(`mosquitto kill -9 ${killedAfter} ms into the replay (outbox ${depthAtKill} of ${N}, consumer had ${received}); ${consumer.deliveries()} deliveries, ${consumer.committed.size} committed, ${missing.length} missing`);
      expect(killedAfter).toBeLessThan(200);
      expect(depthAtKill).toBeGreaterThan(0);
      expect(missing).toEqual([]);
    } finally {
      await bridge.stop();
      consumer.stop();
      store.close();
      await mosq.close();
    }
  }, 120_000);
});
