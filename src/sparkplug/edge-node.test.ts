// The edge node's session logic against a real SQLite store, with the wire replaced by a
// recorder that plays the bridge: births go out at once, records are drained in order and
// encoded at send time. Every message is decoded by the independent decoder.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeIndependently } from '../../test/sparkplug/independent-decoder.js';
import type { DeviceConfig } from '../config/sections/devices.js';
import { silentLogger } from '../observe/logger.js';
import { ManualClock } from '../shared/clock.js';
import type { TagUpdate, TagValue } from '../runtime/types.js';
import { AppendQueue } from '../store/append-queue.js';
import { openStore, type Store } from '../store/open-store.js';
import { DataType } from './datatypes.js';
import { EdgeNode, type DeviceSnapshot } from './edge-node.js';
import { NODE_METRICS, type NodeMetricValues } from './node-metrics.js';
import { encodePayload } from './payload.js';
import { SPARKPLUG_MIGRATIONS, SqliteBdSeqStore, SqliteCommandJournal } from './sparkplug-store.js';

const stores: Store[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

function device(name: string): DeviceConfig {
  return {
    name,
    driver: 'simulator',
    enabled: true,
    tags: [
      { name: 'flow', type: 'float64', scale: 1, offset: 0, writable: false, unit: 'm3/h' },
      { name: 'sp', type: 'int16', scale: 1, offset: 0, writable: true },
    ],
  } as DeviceConfig;
}

interface Wire {
  topic: string;
  qos: number;
  p: ReturnType<typeof decodeIndependently>;
}

function setup(opts: { primaryHost?: string; dir?: string } = {}) {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'fg-spb-'));
  const store = openStore({ path: join(dir, 'fg.db'), maxBytes: 64 * 1024 * 1024, maxAgeMs: 86_400_000, onFull: 'drop-oldest', extraMigrations: [SPARKPLUG_MIGRATIONS] });
  stores.push(store);
  const clock = new ManualClock();
  const states = new Map<string, string>([['pump', 'online'], ['tank', 'online']]);
  const values = new Map<string, TagValue | null>([['pump/flow', 1.5], ['pump/sp', 7], ['tank/flow', 2], ['tank/sp', 0]]);
  const writes: Array<[string, string, TagValue]> = [];
  const journal = new SqliteCommandJournal(store.db);
  const nodeValues = (): NodeMetricValues => Object.fromEntries(NODE_METRICS.map((m) => [m.name, m.type === DataType.String ? 'x' : 1])) as NodeMetricValues;
  const appendQueue = new AppendQueue(store.outbox);
  const node = new EdgeNode({
    identity: { group: 'plant', node: 'edge' },
    devices: [device('pump'), device('tank')],
    outbox: store.outbox,
    appendQueue,
    bdSeqStore: new SqliteBdSeqStore(store.db),
    journal,
    primaryHost: opts.primaryHost,
    write: async (d, t, v) => {
      if (t === 'sp' && v === 666) throw new Error('device said no');
      writes.push([d, t, v]);
    },
    snapshot: (): DeviceSnapshot[] =>
      ['pump', 'tank'].map((d) => ({
        name: d,
        state: states.get(d) ?? 'offline',
        tags: ['flow', 'sp'].map((t) => ({ name: t, value: values.get(`${d}/${t}`) ?? null, quality: states.get(d) === 'online' ? 'GOOD' : 'BAD', sourceTime: 0 })),
      })),
    nodeMetrics: nodeValues,
    clock,
    logger: silentLogger(),
  });
  const wire: Wire[] = [];
  let reconnects = 0;
  const link = {
    publishNow: (topic: string, payload: Buffer, qos: 0 | 1) => wire.push({ topic, qos, p: decodeIndependently(payload) }),
    resumeDrain: () => undefined,
    reconnect: () => {
      reconnects++;
    },
  };
  let cursor = 0;
  /** Plays the bridge: everything appended and not yet sent, in order, encoded now. */
  const drain = () => {
    appendQueue.flush();
    if (!node.mayDrain) return;
    for (const r of store.outbox.read(cursor, 10_000)) {
      cursor = r.seq;
      const m = node.encode(r);
      if (m !== undefined) wire.push({ topic: m.topic, qos: m.qos, p: decodeIndependently(m.payload) });
    }
  };
  const update = (d: string, tag: string, value: TagValue | null, quality: 'GOOD' | 'BAD' = 'GOOD', reason: TagUpdate['reason'] = 'change'): TagUpdate => {
    values.set(`${d}/${tag}`, value);
    return { device: d, tag, value, quality, sourceTime: clock.now(), gatewayTime: clock.now(), reason };
  };
  const commit = () => appendQueue.flush();
  return { node, store, clock, wire, link, drain, commit, update, states, writes, journal, reconnects: () => reconnects, dir };
}

const seqs = (wire: Wire[]) => wire.filter((w) => !w.topic.includes('NDEATH')).map((w) => Number(w.p.seq));

describe('EdgeNode', () => {
  it('connect: Will with bdSeq 0, then NBIRTH seq 0 and a DBIRTH per device, then DATA with consecutive seq', () => {
    const t = setup();
    const will = t.node.nextWill();
    expect(will).toMatchObject({ topic: 'spBv1.0/plant/NDEATH/edge', qos: 1, retain: false });
    expect(decodeIndependently(will.payload).metrics).toEqual([{ name: 'bdSeq', datatype: DataType.Int64, longValue: '0' }]);
    t.node.sessionUp(t.link);
    expect(t.wire.map((w) => w.topic)).toEqual(['spBv1.0/plant/NBIRTH/edge', 'spBv1.0/plant/DBIRTH/edge/pump', 'spBv1.0/plant/DBIRTH/edge/tank']);
    const nbirth = t.wire[0]!.p;
    expect(nbirth.seq).toBe('0');
    expect(nbirth.metrics?.find((m) => m.name === 'bdSeq')).toMatchObject({ longValue: '0' });
    expect(nbirth.metrics?.find((m) => m.name === 'Node Control/Rebirth')).toMatchObject({ booleanValue: false });
    const flowAlias = t.wire[1]!.p.metrics?.find((m) => m.name === 'flow')?.alias;

    t.node.onUpdates([t.update('pump', 'flow', 3.25)]);
    t.drain();
    const ddata = t.wire.at(-1)!;
    expect(ddata.topic).toBe('spBv1.0/plant/DDATA/edge/pump');
    expect(ddata.qos).toBe(0);
    expect(ddata.p.metrics).toEqual([{ alias: flowAlias, timestamp: String(t.clock.now()), doubleValue: 3.25 }]);
    expect(seqs(t.wire)).toEqual([0, 1, 2, 3]);
  });

  it('seq wraps past 255 across births and DATA', () => {
    const t = setup();
    t.node.nextWill();
    t.node.sessionUp(t.link);
    for (let i = 0; i < 300; i++) t.node.onUpdates([t.update('pump', 'flow', i)]);
    t.drain();
    const s = seqs(t.wire);
    expect(s).toHaveLength(303);
    s.forEach((v, i) => expect(v).toBe(i % 256));
  });

  it('bdSeq grows with every CONNECT and continues after a restart from the same store', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-spb-'));
    const a = setup({ dir });
    const first = [a.node.nextWill(), a.node.nextWill(), a.node.nextWill()].map((w) => decodeIndependently(w.payload).metrics?.[0]?.longValue);
    expect(first).toEqual(['0', '1', '2']);
    a.store.close();
    stores.splice(stores.indexOf(a.store), 1);
    const b = setup({ dir });
    expect(decodeIndependently(b.node.nextWill().payload).metrics?.[0]?.longValue).toBe('3');
    b.node.sessionUp(b.link);
    expect(b.wire[0]?.p.metrics?.find((m) => m.name === 'bdSeq')?.longValue).toBe('3');
  });

  it('values stored while disconnected go out after the births, flagged historical, in order; live ones are not', async () => {
    const t = setup();
    t.node.onUpdates([t.update('pump', 'flow', 10)]);
    await t.clock.advance(1000);
    t.node.onUpdates([t.update('pump', 'flow', 11)]);
    t.drain();
    t.node.nextWill();
    t.node.sessionUp(t.link);
    t.node.onUpdates([t.update('pump', 'flow', 12)]);
    t.drain();
    const data = t.wire.filter((w) => w.topic.includes('DDATA'));
    expect(data.map((d) => d.p.metrics?.[0]?.doubleValue)).toEqual([10, 11, 12]);
    expect(data.map((d) => d.p.metrics?.[0]?.isHistorical === true)).toEqual([true, true, false]);
    // Historical values keep their own timestamps.
    expect(Number(data[1]!.p.metrics?.[0]?.timestamp) - Number(data[0]!.p.metrics?.[0]?.timestamp)).toBe(1000);
  });

  it('device offline → DDEATH; back online → fresh DBIRTH; old lifecycle records are not replayed', () => {
    const t = setup();
    // Before the session: the tank died and came back; the births will describe it as it is now.
    t.node.onDeviceState({ device: 'tank', state: 'offline', previous: 'online', at: 1 });
    t.node.onDeviceState({ device: 'tank', state: 'online', previous: 'offline', at: 2 });
    t.drain();
    t.node.nextWill();
    t.node.sessionUp(t.link);
    t.drain();
    expect(t.wire.map((w) => w.topic.split('/')[2])).toEqual(['NBIRTH', 'DBIRTH', 'DBIRTH']);

    t.states.set('tank', 'offline');
    t.node.onUpdates([t.update('tank', 'flow', null, 'BAD', 'quality')]);
    t.node.onDeviceState({ device: 'tank', state: 'offline', previous: 'online', at: t.clock.now() });
    t.drain();
    expect(t.wire.slice(-2).map((w) => w.topic)).toEqual(['spBv1.0/plant/DDATA/edge/tank', 'spBv1.0/plant/DDEATH/edge/tank']);
    const bad = t.wire.at(-2)!.p.metrics?.[0];
    expect(bad).toMatchObject({ isNull: true, properties: { keys: ['Quality'], values: [{ type: 3, intValue: 0 }] } });

    t.states.set('tank', 'online');
    t.node.onDeviceState({ device: 'tank', state: 'online', previous: 'offline', at: t.clock.now() });
    t.drain();
    expect(t.wire.at(-1)!.topic).toBe('spBv1.0/plant/DBIRTH/edge/tank');
    expect(seqs(t.wire)).toEqual(seqs(t.wire).map((_, i) => i));
  });

  it('a device offline at connect is not born (no birth of nulls, issue 12); its DATA waits for its DBIRTH', () => {
    const t = setup();
    t.states.set('tank', 'offline');
    t.node.nextWill();
    t.node.sessionUp(t.link);
    expect(t.wire.map((w) => w.topic.split('/').slice(2).join('/'))).toEqual(['NBIRTH/edge', 'DBIRTH/edge/pump']);
    // BAD updates of the unborn device (its connect failing) are not DATA.
    t.node.onUpdates([t.update('tank', 'flow', null, 'BAD', 'quality')]);
    t.drain();
    expect(t.wire.map((w) => w.topic.split('/').slice(2).join('/'))).toEqual(['NBIRTH/edge', 'DBIRTH/edge/pump']);
  });

  it('a device offline at connect with measured values in the backlog is born and dies at once; its history follows, its nulls do not', async () => {
    const t = setup();
    t.states.set('pump', 'online');
    t.node.onUpdates([t.update('tank', 'flow', 7)]);
    t.node.onUpdates([t.update('tank', 'flow', null, 'BAD', 'quality')]);
    t.drain();
    await new Promise((r) => setImmediate(r));
    t.states.set('tank', 'offline');
    t.node.nextWill();
    t.node.sessionUp(t.link);
    t.drain();
    expect(t.wire.map((w) => w.topic.split('/').slice(2).join('/'))).toEqual(['NBIRTH/edge', 'DBIRTH/edge/pump', 'DBIRTH/edge/tank', 'DDEATH/edge/tank', 'DDATA/edge/tank']);
    expect(t.wire.at(-1)!.p.metrics).toMatchObject([{ doubleValue: 7, isHistorical: true }]);
  });

  it('a DDATA does not repeat the sample its DBIRTH carried; a sample older than the birth goes out historical', async () => {
    const t = setup();
    t.states.set('pump', 'online');
    t.states.set('tank', 'offline');
    t.node.nextWill();
    t.node.sessionUp(t.link);
    const older = t.update('tank', 'sp', 1);
    await t.clock.advance(10);
    // The supervisor's order: tag values, the device online, then the same values as DATA.
    const carried = t.update('tank', 'flow', 5);
    t.states.set('tank', 'online');
    t.node.onDeviceState({ device: 'tank', state: 'online', previous: 'starting', at: t.clock.now() });
    t.node.onUpdates([carried]);
    t.drain();
    expect(t.wire.filter((w) => w.topic.endsWith('/tank')).map((w) => w.topic.split('/')[2])).toEqual(['DBIRTH']);
    // A sample produced before the birth but stored after it: history, not the current value.
    t.node.onUpdates([older]);
    t.drain();
    const last = t.wire.at(-1)!;
    expect(last.topic).toBe('spBv1.0/plant/DDATA/edge/tank');
    expect(last.p.metrics).toMatchObject([{ intValue: 1, isHistorical: true }]);
  });

  it('rebirth on NCMD: births again at once with the same bdSeq, and DATA after it continues the new seq', () => {
    const t = setup();
    t.node.nextWill();
    t.node.sessionUp(t.link);
    t.node.onUpdates([t.update('pump', 'flow', 5)]);
    t.drain();
    const before = t.wire.length;
    t.node.onUpdates([t.update('pump', 'flow', 6)]);
    t.commit(); // stored, not yet sent when the command arrives
    t.node.onMessage('spBv1.0/plant/NCMD/edge', Buffer.from(encodePayload({ metrics: [{ name: 'Node Control/Rebirth', type: DataType.Boolean, value: true }] })));
    const rebirth = t.wire.slice(before);
    expect(rebirth.map((w) => w.topic.split('/')[2])).toEqual(['NBIRTH', 'DBIRTH', 'DBIRTH']);
    expect(rebirth[0]!.p.metrics?.find((m) => m.name === 'bdSeq')?.longValue).toBe('0');
    expect(rebirth[0]!.p.seq).toBe('0');
    t.drain();
    // The value queued before the rebirth is older than the births: it goes out as historical.
    expect(t.wire.at(-1)!.p).toMatchObject({ seq: '3', metrics: [{ doubleValue: 6, isHistorical: true }] });
  });

  it('DCMD writes reach the device, are journaled with their result, and refusals are journaled too', async () => {
    const t = setup();
    t.node.nextWill();
    t.node.sessionUp(t.link);
    const spAlias = BigInt(t.wire[1]!.p.metrics?.find((m) => m.name === 'sp')?.alias as string);
    const flowAlias = BigInt(t.wire[1]!.p.metrics?.find((m) => m.name === 'flow')?.alias as string);
    const cmd = (metrics: Parameters<typeof encodePayload>[0]['metrics']) => Buffer.from(encodePayload({ metrics }));
    t.node.onMessage('spBv1.0/plant/DCMD/edge/pump', cmd([{ alias: spAlias, type: DataType.Int16, writeDatatype: false, value: 42 }]));
    t.node.onMessage('spBv1.0/plant/DCMD/edge/pump', cmd([{ alias: spAlias, type: DataType.Int16, writeDatatype: false, value: 666 }]));
    t.node.onMessage('spBv1.0/plant/DCMD/edge/pump', cmd([{ alias: flowAlias, type: DataType.Double, writeDatatype: false, value: 1 }]));
    t.node.onMessage('spBv1.0/other/DCMD/edge/pump', cmd([{ alias: spAlias, type: DataType.Int16, writeDatatype: false, value: 1 }]));
    t.node.onMessage('spBv1.0/plant/DCMD/edge/pump', Buffer.from([0xff, 0xff, 0xff]));
    await new Promise((r) => setImmediate(r));
    expect(t.writes).toEqual([['pump', 'sp', 42]]);
    const rows = t.journal.latest(10).reverse();
    expect(rows.map((r) => [r.source, r.device, r.metric, r.value, r.result, r.error])).toEqual([
      ['DCMD', 'pump', 'sp', '42', 'ok', null],
      ['DCMD', 'pump', 'sp', '666', 'failed', 'device said no'],
      ['DCMD', 'pump', 'flow', '', 'refused', 'metric is not writable'],
    ]);
    expect(t.node.commandStats()).toMatchObject({ received: 3, failed: 2 });
  });

  it('primary host: no births until it is online; stale STATE ignored; offline → NDEATH and reconnect', () => {
    const t = setup({ primaryHost: 'scada' });
    expect(t.node.subscriptions().map((s) => s.filter)).toContain('spBv1.0/STATE/scada');
    t.node.nextWill();
    t.node.sessionUp(t.link);
    t.node.onUpdates([t.update('pump', 'flow', 1)]);
    t.drain();
    expect(t.wire).toEqual([]);
    t.node.onMessage('spBv1.0/STATE/other', Buffer.from('{"online":true,"timestamp":5}'));
    expect(t.wire).toEqual([]);
    t.node.onMessage('spBv1.0/STATE/scada', Buffer.from('{"online":true,"timestamp":100}'));
    expect(t.wire.map((w) => w.topic.split('/')[2])).toEqual(['NBIRTH', 'DBIRTH', 'DBIRTH']);
    t.drain();
    expect(t.wire.at(-1)!.p.metrics?.[0]).toMatchObject({ doubleValue: 1, isHistorical: true });
    const n = t.wire.length;
    t.node.onMessage('spBv1.0/STATE/scada', Buffer.from('{"online":false,"timestamp":50}'));
    expect(t.wire.length).toBe(n);
    expect(t.reconnects()).toBe(0);
    t.node.onMessage('spBv1.0/STATE/scada', Buffer.from('{"online":false,"timestamp":200}'));
    expect(t.wire.at(-1)).toMatchObject({ topic: 'spBv1.0/plant/NDEATH/edge', qos: 1 });
    expect(t.wire.at(-1)!.p.metrics).toEqual([{ name: 'bdSeq', datatype: DataType.Int64, longValue: '0' }]);
    expect(t.reconnects()).toBe(1);
    expect(t.node.mayDrain).toBe(false);
  });

  it('refuses to encode before births, so a record is never dropped by an early drain', () => {
    const t = setup();
    t.node.onUpdates([t.update('pump', 'flow', 1)]);
    t.commit();
    const [r] = t.store.outbox.read(0, 1);
    expect(() => t.node.encode(r!)).toThrow(/no births/);
  });
});
