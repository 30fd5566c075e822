// Done-when "Outage" against Debian's mosquitto (MQTT 5 session, dedup key as user property):
// mosquitto is stopped while samples keep coming, then started again.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../src/store/open-store.js';
import { AppendQueue } from '../src/store/append-queue.js';
import { Deduper } from '../src/bridge/deduper.js';
import type { Bridge } from '../src/bridge/bridge.js';
import { makeBridge, until } from './helpers/bridge-fixture.js';
import { Mosquitto } from './helpers/mosquitto.js';
import { sample, sampleNumber } from './helpers/records.js';

let dir: string | undefined;
let store: Store | undefined;
let mosq: Mosquitto | undefined;
let bridge: Bridge | undefined;
let producer: ReturnType<typeof setInterval> | undefined;

afterEach(async () => {
  if (producer !== undefined) clearInterval(producer);
  await bridge?.stop();
  store?.close();
  await mosq?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

const DEVICES = ['press', 'oven', 'pump'];

describe('outage of mosquitto', () => {
  it('every sample arrives once after dedup, in order per device and lane, live ahead of the backlog', async () => {
    dir = mkdtempSync(join(tmpdir(), 'fg-mosq-outage-'));
    mosq = await Mosquitto.start({ persistent: true });
    await mosq.subscribe('spBv1.0/#');
    store = openStore({ path: join(dir, 'store.db'), maxBytes: 1 << 30, maxAgeMs: 86_400_000, onFull: 'drop-oldest' });
    const queue = new AppendQueue(store.outbox);
    const bySeq = new Map<number, { device: string; n: number }>();
    const next = new Map(DEVICES.map((d) => [d, 0]));
    producer = setInterval(() => {
      for (const device of DEVICES) {
        const n = (next.get(device) ?? 0) + 1;
        next.set(device, n);
        void queue.enqueue(sample(device, n)).then((seq) => {
          if (seq !== null) bySeq.set(seq, { device, n });
        });
      }
    }, 2);
    bridge = makeBridge(store.outbox, mosq.url, {
      inflight: 10,
      replayRate: { unit: 'messages', perSecond: 400 },
      session: { url: mosq.url, protocolVersion: 5, clientId: 'fg-outage', keepaliveMs: 30_000, connectTimeoutMs: 2000 },
    });
    bridge.start();
    await mosq.waitFor(60);
    await mosq.stopBroker();
    await until(() => bridge?.isConnected === false, 5000, 'bridge saw the outage');
    const depthAtStop = store.outbox.stats().depth;
    await until(() => (store?.outbox.stats().depth ?? 0) >= depthAtStop + 200, 5000, 'backlog builds');
    await mosq.launchAgain();
    await until(() => bridge?.isConnected === true, 10_000, 'reconnected');
    const liveFrom = bridge.status().liveFrom;
    await until(() => (store?.outbox.stats().ackedThrough ?? 0) >= liveFrom - 100, 15_000, 'replay under way');
    clearInterval(producer);
    producer = undefined;
    queue.flush();
    await until(() => store?.outbox.stats().depth === 0, 15_000, 'drained');
    await until(() => new Set(mosq?.received.map((r) => r.key?.seq)).size >= bySeq.size, 15_000, 'consumer has everything');

    const d = new Deduper();
    const unique = mosq.received.filter((r) => r.key !== undefined && d.accept(r.key));
    expect(unique.map((r) => r.key?.seq).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual([...bySeq.keys()].sort((a, b) => a - b));
    for (const r of unique) expect(sampleNumber(r.payload)).toBe(bySeq.get(r.key?.seq ?? -1)?.n);
    for (const inLane of [(s: number) => s <= liveFrom, (s: number) => s > liveFrom]) {
      for (const device of DEVICES) {
        const ns = unique.filter((r) => inLane(r.key?.seq ?? 0) && r.topic.endsWith(`/${device}`)).map((r) => sampleNumber(r.payload));
        expect(ns).toEqual([...ns].sort((a, b) => a - b));
      }
    }
    const firstLive = unique.findIndex((r) => (r.key?.seq ?? 0) > liveFrom);
    const lastBacklog = unique.map((r) => (r.key?.seq ?? 0) <= liveFrom).lastIndexOf(true);
    expect(firstLive).toBeGreaterThan(-1);
    expect(firstLive).toBeLessThan(lastBacklog);
    console.info(`mosquitto outage: ${bySeq.size} samples, ${mosq.received.length} received, ${d.dropped} duplicates dropped`);
  }, 60_000);
});
