// The bridge against Debian's mosquitto 2.0: MQTT 5 user properties reach a v5 consumer, the
// Sparkplug form survives a 3.1.1 session, and 100 kill -9s lose nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../src/store/open-store.js';
import { DEDUP_USER_PROPERTY } from '../src/bridge/dedup-key.js';
import type { Bridge } from '../src/bridge/bridge.js';
import { makeBridge, until } from './helpers/bridge-fixture.js';
import { MetricsRegistry } from '../src/observe/metrics.js';
import { runKillScenario } from './helpers/kill-scenario.js';
import { removeChildBuild } from './helpers/build-child.js';
import { Mosquitto } from './helpers/mosquitto.js';
import { sample, sampleNumber } from './helpers/records.js';

let dir: string;
let mosq: Mosquitto;
let store: Store | undefined;
let bridge: Bridge | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fg-mosq-test-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  removeChildBuild();
});
afterEach(async () => {
  await bridge?.stop();
  bridge = undefined;
  store?.close();
  store = undefined;
  await mosq?.close();
});

describe('bridge -> mosquitto', () => {
  it('MQTT 5: every message carries the fg-dedup user property, plain and Sparkplug payloads alike', async () => {
    mosq = await Mosquitto.start();
    await mosq.subscribe();
    store = openStore({ path: join(dir, 'v5.db'), maxBytes: 1 << 30, maxAgeMs: 86_400_000, onFull: 'drop-oldest', synchronous: 'normal' });
    store.outbox.append([{ kind: 'mqtt', topic: 'site/line1/temp', payload: Buffer.from('21.5'), qos: 1 }, sample('d', 2, 2), sample('d', 3, 0)]);
    bridge = makeBridge(store.outbox, mosq.url, { session: { url: mosq.url, protocolVersion: 5, clientId: 'fg-v5', keepaliveMs: 30_000, connectTimeoutMs: 2000 } });
    bridge.start();
    await mosq.waitFor(3);
    await until(() => store?.outbox.stats().depth === 0, 5000, 'acked');
    const bySeq = [...mosq.received].sort((a, b) => (a.key?.seq ?? 0) - (b.key?.seq ?? 0));
    expect(bySeq.map((r) => r.userProperties?.[DEDUP_USER_PROPERTY])).toEqual([1, 2, 3].map((s) => `g/node/${store?.epoch}/${s}`));
    expect(bySeq[0]?.payload.toString()).toBe('21.5');
    expect(bySeq.map((r) => r.qos)).toEqual([1, 2, 0]);
  });

  it('MQTT 3.1.1: the key survives inside the Sparkplug payload', async () => {
    mosq = await Mosquitto.start();
    await mosq.subscribe();
    store = openStore({ path: join(dir, 'v4.db'), maxBytes: 1 << 30, maxAgeMs: 86_400_000, onFull: 'drop-oldest', synchronous: 'normal' });
    store.outbox.append(Array.from({ length: 1000 }, (_, i) => sample(`d${i % 4}`, i + 1)));
    bridge = makeBridge(store.outbox, mosq.url, { inflight: 200 });
    bridge.start();
    await mosq.waitFor(1000);
    expect(mosq.received.map((r) => r.userProperties?.[DEDUP_USER_PROPERTY])).toEqual(new Array(1000).fill(undefined));
    expect(mosq.received.map((r) => r.key?.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(mosq.received.map((r) => sampleNumber(r.payload))).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
  });

  it("MQTT 5: honours the CONNACK's Receive Maximum and Maximum QoS", async () => {
    mosq = await Mosquitto.start({ extra: ['max_inflight_messages 5', 'max_qos 1'] });
    await mosq.subscribe();
    store = openStore({ path: join(dir, 'limits.db'), maxBytes: 1 << 30, maxAgeMs: 86_400_000, onFull: 'drop-oldest', synchronous: 'normal' });
    store.outbox.append(Array.from({ length: 500 }, (_, i) => sample('d', i + 1, 2)));
    const metrics = new MetricsRegistry();
    bridge = makeBridge(store.outbox, mosq.url, { inflight: 100, metrics, session: { url: mosq.url, protocolVersion: 5, clientId: 'fg-limits', keepaliveMs: 30_000, connectTimeoutMs: 2000 } });
    bridge.start();
    await until(() => bridge?.isConnected === true, 5000, 'connected');
    expect(bridge.status()).toMatchObject({ window: 5, maxQos: 1 });
    await mosq.waitFor(500);
    await until(() => store?.outbox.stats().depth === 0, 10_000, 'drained');
    expect(new Set(mosq.received.map((r) => r.qos))).toEqual(new Set([1]));
    // Exceeding Receive Maximum would have made mosquitto drop the connection.
    expect(metrics.render()).not.toMatch(/fieldgate_upstream_reconnects_total [1-9]/);
  });

  it('kill -9 x100 during ingest and replay: nothing accepted lost, duplicates within the window', async () => {
    mosq = await Mosquitto.start();
    await mosq.subscribe();
    const out = await runKillScenario({
      kills: 100,
      inflight: 20,
      db: join(dir, 'kill.db'),
      liveUrl: mosq.url,
      deadUrl: 'mqtt://127.0.0.1:1',
      received: () => mosq.received,
      seed: 7,
    });
    expect(out.lost).toEqual([]);
    expect(out.mismatched).toBe(0);
    expect(out.foreignEpochs).toBe(0);
    expect(out.duplicates).toBeLessThanOrEqual(51 * 20);
    expect(out.dedupDropped).toBe(out.duplicates);
    console.info(`mosquitto kill -9 x100: ${out.accepted.size} accepted, ${out.uniqueReceived} unique, ${out.duplicates} duplicates`);
  }, 180_000);
});
