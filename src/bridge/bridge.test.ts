import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../observe/logger.js';
import { MetricsRegistry } from '../observe/metrics.js';
import { openStore, STORE_FIXED_BYTES, type Store } from '../store/open-store.js';
import { recordBytes } from '../store/outbox.js';
import { AedesUpstream } from '../../test/helpers/aedes-upstream.js';
import { makeBridge, until } from '../../test/helpers/bridge-fixture.js';
import { sample, sampleNumber } from '../../test/helpers/records.js';
import { Deduper } from './deduper.js';
import type { Bridge } from './bridge.js';

let dir: string;
let store: Store;
let upstream: AedesUpstream;
let bridge: Bridge | undefined;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fg-bridge-'));
  store = openStore({ path: join(dir, 'store.db'), maxBytes: 1 << 30, maxAgeMs: 86_400_000, onFull: 'drop-oldest', synchronous: 'normal' });
  upstream = await AedesUpstream.start();
});

afterEach(async () => {
  await bridge?.stop();
  bridge = undefined;
  await upstream.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Bridge against aedes (MQTT 3.1.1)', () => {
  it('drains a backlog in sequence order, deletes rows only after PUBACK, and stamps the dedup key', async () => {
    store.outbox.append(Array.from({ length: 300 }, (_, i) => sample('d1', i)));
    bridge = makeBridge(store.outbox, upstream.url);
    bridge.start();
    await upstream.waitFor(300);
    await until(() => store.outbox.stats().depth === 0, 5000, 'outbox empty');
    const keys = upstream.received.map((r) => r.key);
    expect(keys.map((k) => k?.seq)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(keys.every((k) => k?.node === 'g/node' && k.epoch === store.epoch)).toBe(true);
    expect(upstream.received.map((r) => sampleNumber(r.payload))).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(store.outbox.stats()).toMatchObject({ ackedThrough: 300, depth: 0, bytes: 0 });
  });

  it('keeps at most `inflight` records unacknowledged and advances the high-water mark only on PUBACK', async () => {
    store.outbox.append(Array.from({ length: 100 }, (_, i) => sample('d1', i)));
    upstream.hold = true;
    bridge = makeBridge(store.outbox, upstream.url, { inflight: 7 });
    bridge.start();
    await until(() => upstream.heldCount === 7, 5000, '7 held publishes');
    // Give the bridge every chance to overrun the window before checking it did not.
    await new Promise((r) => setTimeout(r, 100));
    expect(upstream.heldCount).toBe(7);
    expect(store.outbox.stats()).toMatchObject({ ackedThrough: 0, depth: 100 });
    upstream.hold = false;
    upstream.release();
    await until(() => store.outbox.stats().depth === 0, 5000, 'drained');
    expect(upstream.maxHeld).toBe(7);
    expect(upstream.received).toHaveLength(100);
  });

  it('sends live records ahead of a paced backlog and paces the backlog to replay.rate', async () => {
    store.outbox.append(Array.from({ length: 300 }, (_, i) => sample('d1', i)));
    bridge = makeBridge(store.outbox, upstream.url, { replayRate: { unit: 'messages', perSecond: 300 }, inflight: 50 });
    const t0 = Date.now();
    bridge.start();
    await upstream.waitFor(40);
    store.outbox.append([sample('live', 1000)]);
    await upstream.waitFor(301, 10_000);
    const elapsed = Date.now() - t0;
    const liveAt = upstream.received.findIndex((r) => r.topic.endsWith('/live'));
    // Live arrived while most of the backlog was still waiting its turn.
    expect(liveAt).toBeGreaterThan(0);
    expect(liveAt).toBeLessThan(150);
    // 300 backlog records at 300/s with a 0.1 s burst: about 0.9 s; never the instant drain.
    expect(elapsed).toBeGreaterThanOrEqual(800);
    // Generous upper bound: only to show pacing is not stuck, on a machine shared with others.
    expect(elapsed).toBeLessThan(8000);
    const d = new Deduper();
    expect(upstream.received.every((r) => r.key !== undefined && d.accept(r.key))).toBe(true);
  });

  it('downgrades QoS 2 to the upstream maxQos with one warning (RabbitMQ)', async () => {
    const lines: string[] = [];
    const logger = createLogger({ destination: new Writable({ write(c: Buffer, _e, cb) { lines.push(c.toString()); cb(); } }) });
    store.outbox.append([sample('d1', 1, 2), sample('d1', 2, 2)]);
    bridge = makeBridge(store.outbox, upstream.url, { maxQos: 1, logger });
    bridge.start();
    await upstream.waitFor(2);
    await until(() => store.outbox.stats().depth === 0, 5000, 'acked');
    expect(upstream.received.map((r) => r.qos)).toEqual([1, 1]);
    expect(lines.filter((l) => l.includes('records downgraded'))).toHaveLength(1);
  });

  it('delivers QoS 2 end to end and acknowledges only after PUBCOMP', async () => {
    store.outbox.append([sample('d1', 1, 2), sample('d1', 2, 0)]);
    bridge = makeBridge(store.outbox, upstream.url);
    bridge.start();
    await upstream.waitFor(2);
    await until(() => store.outbox.stats().depth === 0, 5000, 'acked');
    // aedes hands a QoS 2 message on at PUBREL, so arrival order across QoS levels may differ.
    const bySeq = [...upstream.received].sort((a, b) => (a.key?.seq ?? 0) - (b.key?.seq ?? 0));
    expect(bySeq.map((r) => r.qos)).toEqual([2, 0]);
  });

  it('reconnects with backoff after the broker goes away, counts it, and replays what was not acked', async () => {
    const metrics = new MetricsRegistry();
    bridge = makeBridge(store.outbox, upstream.url, { metrics });
    bridge.start();
    await until(() => bridge?.isConnected === true, 5000, 'connected');
    await upstream.stop();
    await until(() => bridge?.isConnected === false, 5000, 'disconnected');
    store.outbox.append(Array.from({ length: 50 }, (_, i) => sample('d1', i)));
    expect(store.outbox.stats().depth).toBe(50);
    await upstream.restart();
    await upstream.waitFor(50);
    await until(() => store.outbox.stats().depth === 0, 5000, 'drained');
    const text = metrics.render();
    expect(text).toMatch(/fieldgate_upstream_reconnects_total 1/);
    expect(text).toMatch(/fieldgate_outbox_depth_records 0/);
    expect(text).toMatch(/fieldgate_upstream_acked_total\{lane="backlog"\} 50/);
  });

  it('reports backlog depth, bytes, oldest age and drain ETA while the upstream is down', async () => {
    const metrics = new MetricsRegistry();
    await upstream.stop();
    bridge = makeBridge(store.outbox, upstream.url, { metrics });
    bridge.start();
    const recs = Array.from({ length: 10 }, (_, i) => ({ ...sample('d1', i), createdAt: Date.now() - 5000 }));
    store.outbox.append(recs);
    const text = metrics.render();
    expect(text).toMatch(/fieldgate_outbox_depth_records 10/);
    expect(text).toMatch(new RegExp(`fieldgate_outbox_bytes ${store.outbox.stats().bytes}`));
    const age = Number(/fieldgate_outbox_oldest_age_seconds ([\d.]+)/.exec(text)?.[1]);
    expect(age).toBeGreaterThanOrEqual(5);
    expect(text).toMatch(/fieldgate_upstream_drain_eta_seconds -1/);
    expect(text).toMatch(/fieldgate_upstream_connected 0/);
  });

  it('drops the drain ETA to -1 as soon as the link goes, though the 10 s replay rate still counts acks from before', async () => {
    const metrics = new MetricsRegistry();
    store.outbox.append(Array.from({ length: 2000 }, (_, i) => sample('d1', i)));
    // Paced so the backlog is still there when the link drops.
    bridge = makeBridge(store.outbox, upstream.url, { metrics, replayRate: { unit: 'messages', perSecond: 200 } });
    bridge.start();
    await until(() => store.outbox.stats().depth < 1900, 10_000, 'some of the backlog acked');
    const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics.render())?.[1]);
    expect(gauge('fieldgate_upstream_drain_eta_seconds')).toBeGreaterThan(0);
    await upstream.stop();
    await until(() => bridge?.isConnected === false, 5000, 'disconnected');
    // Well inside the 10 s window: the rate still averages the acks before the drop...
    expect(gauge('fieldgate_upstream_replay_rate')).toBeGreaterThan(0);
    // ...but nothing drains without a link.
    expect(gauge('fieldgate_upstream_drain_eta_seconds')).toBe(-1);
    expect(bridge.drainEstimate().etaSeconds).toBe(-1);
    expect(store.outbox.stats().depth).toBeGreaterThan(0);
  });

  it('stop() leaves no timer or socket behind, connected or while waiting to reconnect', async () => {
    const count = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'TCPSocketWrap' || r === 'Immediate').length;
    const baseline = count();
    store.outbox.append(Array.from({ length: 30 }, (_, i) => sample('d1', i)));
    upstream.hold = true;
    bridge = makeBridge(store.outbox, upstream.url, { replayRate: { unit: 'messages', perSecond: 10 } });
    bridge.start();
    await until(() => upstream.heldCount > 0, 5000, 'in flight');
    await bridge.stop();
    await until(() => count() <= baseline, 2000, 'resources released after stop while connected');
    await upstream.stop();
    bridge = makeBridge(store.outbox, upstream.url, { backoff: { minMs: 5000, maxMs: 5000, jitter: 0 } });
    bridge.start();
    await until(() => count() > baseline, 2000, 'reconnect timer armed');
    await new Promise((r) => setTimeout(r, 50));
    await bridge.stop();
    await until(() => count() <= baseline, 2000, 'resources released after stop while reconnecting');
    // Unacknowledged records stayed for the next start.
    expect(store.outbox.stats().depth).toBe(30);
  });

  it('survives a command handler that throws and keeps the session', async () => {
    const mqtt = (await import('mqtt')).default;
    let calls = 0;
    bridge = makeBridge(store.outbox, upstream.url, {
      subscriptions: [{ filter: 'cmd/#', qos: 1 }],
      onMessage: () => {
        calls++;
        throw new Error('handler bug');
      },
    });
    bridge.start();
    await until(() => upstream.subscribed.has('cmd/#'), 5000, 'subscribed');
    const central = mqtt.connect(upstream.url, { clientId: 'central-throw', reconnectPeriod: 0 });
    await new Promise<void>((r) => central.once('connect', () => r()));
    await new Promise<void>((r) => central.publish('cmd/a', 'x', { qos: 1 }, () => r()));
    await new Promise<void>((r) => central.publish('cmd/b', 'y', { qos: 1 }, () => r()));
    await until(() => calls === 2, 5000, 'both delivered');
    central.end(true);
    expect(bridge.isConnected).toBe(true);
  });

  it('paces the backlog in bytes per second when replay.rate is a byte rate', async () => {
    const recs = Array.from({ length: 200 }, (_, i) => sample('d1', i));
    store.outbox.append(recs);
    const total = store.outbox.stats().bytes;
    // The whole backlog in about 0.8 s at this rate (minus a tenth of a second of burst).
    const perSecond = Math.round(total / 0.8);
    bridge = makeBridge(store.outbox, upstream.url, { replayRate: { unit: 'bytes', perSecond } });
    const t0 = Date.now();
    bridge.start();
    await upstream.waitFor(200, 10_000);
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(600);
    expect(elapsed).toBeLessThan(8000);
  });

  it('does not send backlog records the budget evicted after they were read ahead', async () => {
    store.close();
    const size = recordBytes(sample('d1', 1));
    store = openStore({ path: join(dir, 'small.db'), maxBytes: STORE_FIXED_BYTES + size * 100, maxAgeMs: 86_400_000, onFull: 'drop-oldest', synchronous: 'normal' });
    store.outbox.append(Array.from({ length: 100 }, (_, i) => sample('d1', i + 1)));
    upstream.hold = true;
    bridge = makeBridge(store.outbox, upstream.url, { inflight: 5 });
    bridge.start();
    await until(() => upstream.heldCount === 5, 5000, 'window full');
    // 40 new records push the 40 oldest out, 35 of them read ahead but not yet sent.
    store.outbox.append(Array.from({ length: 40 }, (_, i) => sample('d1', 101 + i)));
    const evictedThrough = store.outbox.ackedThrough();
    expect(store.outbox.stats().dropped.budget).toBeGreaterThanOrEqual(35);
    upstream.hold = false;
    upstream.release();
    await until(() => store.outbox.stats().depth === 0, 5000, 'drained');
    const seqs = upstream.received.map((r) => r.key?.seq ?? 0);
    expect(seqs.filter((s) => s > 5 && s <= evictedThrough)).toEqual([]);
    expect(seqs.length).toBe(5 + 140 - evictedThrough);
  });
});
