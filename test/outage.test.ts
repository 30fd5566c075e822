// Done-when "Outage": the upstream broker is stopped while samples keep coming, then
// restarted: every sample arrives, in order per device, exactly once after the reference
// deduper, and live values resume ahead of the backlog. In each upstream.confirm mode
// (confirm-modes.ts), with QoS 0 samples as Sparkplug DATA is produced.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../src/store/open-store.js';
import { AppendQueue } from '../src/store/append-queue.js';
import { Deduper } from '../src/bridge/deduper.js';
import type { Bridge } from '../src/bridge/bridge.js';
import { AedesUpstream, type Received } from './helpers/aedes-upstream.js';
import { makeBridge, until } from './helpers/bridge-fixture.js';
import { confirmModes, confirmOptions } from './helpers/confirm-modes.js';
import { HostAckConsumer } from './helpers/host-ack-consumer.js';
import { sample, sampleNumber } from './helpers/records.js';

let dir: string;
let store: Store;
let upstream: AedesUpstream;
let bridge: Bridge | undefined;
let producer: ReturnType<typeof setInterval> | undefined;
let consumer: HostAckConsumer | undefined;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fg-outage-'));
  store = openStore({ path: join(dir, 'store.db'), maxBytes: 1 << 30, maxAgeMs: 86_400_000, onFull: 'drop-oldest' });
  upstream = await AedesUpstream.start();
});

afterEach(async () => {
  if (producer !== undefined) clearInterval(producer);
  await bridge?.stop();
  await consumer?.stop();
  consumer = undefined;
  await upstream.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const DEVICES = ['press', 'oven', 'pump'];

describe.each(confirmModes())('outage of the upstream broker, confirm: %s', (mode) => {
  it('delivers every sample once after dedup, per device in order, live ahead of the backlog', async () => {
    // host: a central consumer that commits and acks (the only thing that deletes records),
    // subscribed before anything is produced.
    if (mode === 'host') {
      consumer = new HostAckConsumer(upstream.url, { protocolVersion: 4 });
      await consumer.ready;
    }
    const queue = new AppendQueue(store.outbox);
    const next = new Map(DEVICES.map((d) => [d, 0]));
    const bySeq = new Map<number, { device: string; n: number }>();
    let accepted = 0;
    producer = setInterval(() => {
      for (const device of DEVICES) {
        const n = (next.get(device) ?? 0) + 1;
        next.set(device, n);
        void queue.enqueue(sample(device, n, 0)).then((seq) => {
          if (seq !== null) {
            bySeq.set(seq, { device, n });
            accepted++;
          }
        });
      }
    }, 2);
    // Replay paced so the backlog takes a while and live data visibly overtakes it.
    bridge = makeBridge(store.outbox, upstream.url, { inflight: 10, replayRate: { unit: 'messages', perSecond: 400 }, ...confirmOptions(mode) });
    bridge.start();
    // The first session has its own lanes: what was produced before it connected is backlog.
    await until(() => bridge?.isConnected === true, 5000, 'connected');
    const firstLiveFrom = bridge.status().liveFrom;
    await upstream.waitFor(60);
    await upstream.stop();
    await until(() => bridge?.isConnected === false, 5000, 'bridge saw the outage');
    const depthAtStop = store.outbox.stats().depth;
    await until(() => store.outbox.stats().depth >= depthAtStop + 200, 5000, 'backlog builds while down');
    const receivedBeforeRestart = upstream.received.length;
    await upstream.restart();
    await until(() => bridge?.isConnected === true, 5000, 'reconnected');
    const liveFrom = bridge.status().liveFrom;
    // Keep producing through the replay, then stop and let everything drain.
    await until(() => upstream.received.length >= receivedBeforeRestart + 150, 10_000, 'replay under way');
    clearInterval(producer);
    producer = undefined;
    queue.flush();
    await new Promise((r) => setImmediate(r));
    await until(() => store.outbox.stats().depth === 0, 15_000, 'outbox drained').catch((e: unknown) => {
      console.log('not drained:', JSON.stringify(store.outbox.stats()), consumer?.deliveries, consumer?.acksSent, consumer?.committed.length, accepted, JSON.stringify(consumer?.deduper.acks({ all: true }).map((a) => a.payload.toString())));
      throw e;
    });

    const d = new Deduper();
    // Data only: the host consumer's acks go through the same broker.
    const unique: Received[] = upstream.received.filter((r) => r.topic.startsWith('spBv1.0/') && r.key !== undefined && d.accept(r.key));
    // Exactly once: every accepted sequence, no other, no duplicate left.
    expect(unique.map((r) => r.key?.seq).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual([...bySeq.keys()].sort((a, b) => a - b));
    expect(unique.length).toBe(accepted);
    for (const r of unique) {
      const expected = bySeq.get(r.key?.seq ?? -1);
      expect(r.topic.endsWith(`/${expected?.device}`)).toBe(true);
      expect(sampleNumber(r.payload)).toBe(expected?.n);
    }
    // In order per device within each lane: before the outage, the backlog, and the live lane.
    const after = unique.filter((r) => r.index >= receivedBeforeRestart);
    const before = unique.filter((r) => r.index < receivedBeforeRestart);
    const lanes = {
      beforeBacklog: before.filter((r) => (r.key?.seq ?? 0) <= firstLiveFrom),
      beforeLive: before.filter((r) => (r.key?.seq ?? 0) > firstLiveFrom),
      backlog: after.filter((r) => (r.key?.seq ?? 0) <= liveFrom),
      live: after.filter((r) => (r.key?.seq ?? 0) > liveFrom),
    };
    // host: records the broker dropped before the consumer was back are sent again in a further
    // session (host-stall.ts), whose own live/backlog split reorders this live lane; the
    // backlog stays in order and the series must still be complete.
    for (const lane of mode === 'host' ? [lanes.beforeBacklog, lanes.beforeLive, lanes.backlog] : Object.values(lanes)) {
      for (const device of DEVICES) {
        const ns = lane.filter((r) => r.topic.endsWith(`/${device}`)).map((r) => sampleNumber(r.payload));
        expect(ns).toEqual([...ns].sort((a, b) => a - b));
      }
    }
    // And the union per device is the complete, gap-free series 1..n.
    for (const device of DEVICES) {
      const all = unique.filter((r) => r.topic.endsWith(`/${device}`)).map((r) => sampleNumber(r.payload)).sort((a, b) => a - b);
      expect(all).toEqual(Array.from({ length: all.length }, (_, i) => i + 1));
    }
    // Live resumed ahead of the backlog: the first live sample after the restart arrived
    // before the last backlog sample.
    expect(lanes.backlog.length).toBeGreaterThan(200);
    expect(lanes.live.length).toBeGreaterThan(0);
    expect(lanes.live[0]?.index ?? Infinity).toBeLessThan(lanes.backlog[lanes.backlog.length - 1]?.index ?? -1);
    // The outage cut at most the in-flight window of duplicates. host: everything the consumer
    // had not acked yet when the broker went away is sent again: its commit lag, not the window.
    if (mode !== 'host') expect(d.dropped).toBeLessThanOrEqual(10);
    else if (consumer !== undefined) expect(consumer.seqs(store.outbox.epoch).size).toBe(accepted);
  }, 40_000);
});
