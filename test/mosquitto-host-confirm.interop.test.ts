// confirm: host (issue 13) against Debian's mosquitto killed with kill -9 within 200 ms of the
// replay starting. Mosquitto runs without persistence, so the crash loses every message it
// held, PUBACKed or not, and the retained ack: only the consumer's ack can delete a record.
// The consumer commits (here: appends to its store) and publishes Deduper.acks() after each
// commit, and acks({ all: true }) after each of its own reconnects.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bridge } from '../src/bridge/bridge.js';
import { bridgeOptionsFromConfig } from '../src/bridge/from-config.js';
import { upstreamSchema } from '../src/config/sections/upstream.js';
import { openStore } from '../src/store/open-store.js';
import { until } from './helpers/bridge-fixture.js';
import { HostAckConsumer } from './helpers/host-ack-consumer.js';
import { Mosquitto } from './helpers/mosquitto.js';
import { sample } from './helpers/records.js';

const N = 6000;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fg-mosq-host-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('mosquitto kill -9 mid-replay, confirm: host', () => {
  it('loses nothing: records leave the outbox only once the consumer has committed them', async () => {
    const mosq = await Mosquitto.start();
    const store = openStore({ path: join(dir, 'host.db'), maxBytes: 1 << 30, maxAgeMs: 86_400_000, onFull: 'drop-oldest', synchronous: 'normal' });
    store.outbox.append(Array.from({ length: N }, (_, i) => sample(`d${i % 30}`, i + 1, 0)));
    const consumer = new HostAckConsumer(mosq.url);
    const cfg = upstreamSchema.parse({ url: mosq.url, confirm: 'host', reconnect: { min: '100ms', max: '1s' } });
    const bridge = new Bridge({ ...bridgeOptionsFromConfig(cfg, { group: 'g', node: 'node' }), outbox: store.outbox });
    try {
      bridge.start();
      await until(() => bridge.isConnected, 10_000, 'connected');
      const startedAt = Date.now();
      await new Promise((r) => setTimeout(r, 20 + Math.floor(Math.random() * 80)));
      const killedAfter = Date.now() - startedAt;
      const depthAtKill = store.outbox.stats().depth;
      await mosq.kill9();
      const received = consumer.committed.length;
      await new Promise((r) => setTimeout(r, 300));
      await mosq.launchAgain();
      await until(() => store.outbox.stats().depth === 0, 60_000, 'outbox drained by the consumer acks');
      const committed = consumer.seqs(store.outbox.epoch);
      const missing = Array.from({ length: N }, (_, i) => i + 1).filter((n) => !committed.has(n));
      console.log(`mosquitto kill -9 ${killedAfter} ms into the replay (outbox ${depthAtKill} of ${N}, consumer had ${received}); ${consumer.deliveries} deliveries, ${committed.size} committed, ${missing.length} missing`);
      expect(killedAfter).toBeLessThan(200);
      expect(depthAtKill).toBeGreaterThan(0);
      expect(missing).toEqual([]);
    } finally {
      await bridge.stop();
      await consumer.stop();
      store.close();
      await mosq.close();
    }
  }, 120_000);
});
