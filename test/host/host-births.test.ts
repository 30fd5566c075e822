// Issue 14, item 1: values carried only by an NBIRTH/DBIRTH reach the history, each exactly
// once. The edge does not repeat a birth's samples in DDATA (issue 12), so a tag that never
// changes is only ever in births; a rebirth repeats the same values with the same source times
// (the edge's identity rule: time, quality, value), which must not add rows, nor may the
// replayed DATA record that produced a value the birth already carried. Real Mosquitto, real
// SQLite, a host restart in the middle.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostSchema } from '../../src/config/sections/host.js';
import { exportHistory } from '../../src/host/export.js';
import { Host } from '../../src/host/host.js';
import type { Sample } from '../../src/host/sample.js';
import { SeriesMemory } from '../../src/host/series-memory.js';
import { SqliteHistory } from '../../src/host/sqlite-history.js';
import { silentLogger } from '../../src/observe/logger.js';
import { DataType } from '../../src/sparkplug/datatypes.js';
import type { SpMetric } from '../../src/sparkplug/payload.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { until } from '../helpers/until.js';
import { ScriptedEdge } from './scripted-edge.js';

const T0 = 1_700_000_000_000;
const BAD = { Quality: { type: DataType.Int32, value: 0 } };

describe('fieldgate host: birth values', () => {
  let broker: Mosquitto;
  let dir: string;
  let host: Host;
  let edge: ScriptedEdge;
  const cfg = () => hostSchema.parse({ id: 'scada-b', broker: { url: broker.url }, store: { path: join(dir, 'host.db') }, batch: { maxDelay: '20ms' }, rebirthInterval: '1h' });

  // The state of the edge: `version` and `serial` never change; `flow` does.
  let flow: { value: number; ts: number } = { value: 1.5, ts: T0 + 10 };
  const nbirth = (bdSeq: number): void => {
    edge.seq = 0;
    edge.send('NBIRTH', [
      { name: 'bdSeq', type: DataType.UInt64, value: BigInt(bdSeq), timestamp: Date.now() },
      { name: 'Node Control/Rebirth', type: DataType.Boolean, value: false, alias: 1, timestamp: Date.now() },
      { name: 'Properties/version', type: DataType.String, value: '1.2.3', alias: 2, timestamp: T0 },
    ]);
  };
  const dbirth = (key?: number): void => {
    const metrics: SpMetric[] = [
      { name: 'flow', type: DataType.Double, value: flow.value, alias: 10, timestamp: flow.ts },
      { name: 'serial', type: DataType.Int64, value: 42n, alias: 11, timestamp: T0 + 1 },
      // An offline input: no value known, not a measurement.
      { name: 'spare', type: DataType.Double, value: null, alias: 12, timestamp: Date.now(), properties: BAD },
    ];
    edge.send('DBIRTH', metrics, { device: 'pump', ...(key !== undefined ? { key } : {}) });
  };
  const ddata = (key: number, value: number, ts: number, historical = false): void => {
    edge.send('DDATA', [{ alias: 10, type: DataType.Double, writeDatatype: false, value, timestamp: ts, isHistorical: historical }], { device: 'pump', key });
  };

  const rows = async (): Promise<Array<{ metric: string; value: unknown; timestamp: number; historical: boolean; quality: number }>> => {
    await host.ingest.flush();
    const store = new SqliteHistory(join(dir, 'host.db'));
    const lines: string[] = [];
    await exportHistory(store, {}, 'jsonl', (s) => lines.push(s));
    await store.close();
    return lines.map((l) => JSON.parse(l) as { metric: string; value: unknown; timestamp: number; historical: boolean; quality: number });
  };
  const flows = async () => (await rows()).filter((r) => r.metric === 'flow').map((r) => [r.value, r.timestamp]);
  const messages = (n: number) => until(() => host.ingest.stats.messages >= n, 10_000, `${n} messages`);

  beforeAll(async () => {
    broker = await Mosquitto.start();
    dir = mkdtempSync(join(tmpdir(), 'fg-host-births-'));
    host = new Host(cfg(), silentLogger());
    await host.start();
    await until(() => host.session?.connected === true, 10_000, 'host connected');
    edge = await ScriptedEdge.connect(broker.url);
  }, 20_000);

  afterAll(async () => {
    await new Promise<void>((r) => edge?.client.end(true, {}, () => r()));
    await host?.stop();
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores the values of births that no DATA ever carries, without bookkeeping or nulls', async () => {
    nbirth(1);
    dbirth();
    await messages(2);
    const r = await rows();
    expect(r.map((x) => [x.metric, x.value, x.timestamp]).sort()).toEqual(
      [
        ['Properties/version', '1.2.3', T0],
        ['flow', 1.5, T0 + 10],
        ['serial', 42, T0 + 1],
      ].sort(),
    );
    expect(r.every((x) => x.quality === 192 && x.historical === false)).toBe(true);
  });

  it('a rebirth repeating the same values adds nothing; a new value in a birth is stored once', async () => {
    nbirth(1);
    dbirth();
    await messages(4);
    expect(await rows()).toHaveLength(3);
    // DATA moves flow on; a rebirth then repeats that DATA's value and time.
    ddata(1, 2.5, T0 + 20);
    flow = { value: 2.5, ts: T0 + 20 };
    nbirth(1);
    dbirth();
    await messages(7);
    expect(await flows()).toEqual([
      [1.5, T0 + 10],
      [2.5, T0 + 20],
    ]);
    expect(host.ingest.stats.dedupDrops).toBe(0);
  });

  it('the replayed DATA record of a value the birth already carried is not stored again', async () => {
    // The edge was cut off: a value produced while away is in its births at reconnect, then
    // its outbox replays the record that produced it, flagged historical, with its key.
    flow = { value: 3.5, ts: T0 + 30 };
    nbirth(2);
    dbirth();
    ddata(2, 3.5, T0 + 30, true);
    await messages(10);
    expect(await flows()).toEqual([
      [1.5, T0 + 10],
      [2.5, T0 + 20],
      [3.5, T0 + 30],
    ]);
    await until(() => host.confirmations.get('plant/edge-1')?.through === 2, 5000, 'record 2 confirmed');
  });

  it('after a host restart, a rebirth still adds nothing and a keyed DBIRTH is admitted once', async () => {
    await host.stop();
    host = new Host(cfg(), silentLogger());
    await host.start();
    await until(() => host.session?.connected === true, 10_000, 'host reconnected');
    nbirth(3);
    dbirth();
    await messages(2);
    expect(await rows()).toHaveLength(5);
    // A DBIRTH from the edge's outbox (a device that came online mid-session) carries its
    // record's key; sent twice (a replay), the second is a dedup drop.
    flow = { value: 4.5, ts: T0 + 40 };
    dbirth(3);
    dbirth(3);
    await messages(4);
    expect(await flows()).toEqual([
      [1.5, T0 + 10],
      [2.5, T0 + 20],
      [3.5, T0 + 30],
      [4.5, T0 + 40],
    ]);
    expect(host.ingest.stats.dedupDrops).toBe(1);
    expect(await rows()).toHaveLength(6);
  });

  it('a host killed between series checkpoints recomputes the newest times from the samples', async () => {
    const file = join(dir, 'crash.db');
    const a = new SqliteHistory(file);
    const sample = (metric: string, ts: number) => ({ node: 'g/n', device: 'd', metric, datatype: DataType.Double, value: 1, quality: 192, ts, historical: false });
    await a.commit([sample('x', 10)], [], [], [{ node: 'g/n', device: 'd', metric: 'x', lastTs: 10, birthTs: 10, birthQuality: 192, birthValue: 'd:1' }], true);
    // Later batches without a checkpoint, then no clean stop.
    await a.commit([sample('x', 30), sample('y', 20)], [], []);
    await a.close();
    const b = new SqliteHistory(file);
    const rows = await b.seriesState();
    await b.close();
    expect(rows.sort((p, q) => p.metric.localeCompare(q.metric))).toEqual([
      { node: 'g/n', device: 'd', metric: 'x', lastTs: 30, birthTs: 10, birthQuality: 192, birthValue: 'd:1' },
      { node: 'g/n', device: 'd', metric: 'y', lastTs: 20, birthTs: null, birthQuality: null, birthValue: null },
    ]);
  });
});

// The kill -9 interop test stored one counter value twice per device in some runs: a birth
// stored V@T (its outbox record not yet received), the connection was lost before that record
// arrived, the next session's birth carried a newer V2@T2, and then the record of V@T was
// replayed. Only the last birth-stored sample was remembered, so the record was stored again.
describe('series memory: replayed records after several rebirths', () => {
  const s = (value: number, ts: number): Sample => ({ node: 'g/n', device: 'd', metric: 'c', datatype: DataType.Double, value, quality: 192, ts, historical: false });

  it('drops the record of every value a birth stored, even after a later birth stored another', () => {
    const m = new SeriesMemory();
    expect(m.birth([s(1, 10)])).toHaveLength(1); // session 1: the birth carries V@10
    expect(m.birth([s(2, 20)])).toHaveLength(1); // session 2 (the record of V@10 never came): V2@20
    expect(m.data([{ ...s(1, 10), historical: true }])).toEqual([]); // the replayed record of V@10
    expect(m.data([{ ...s(2, 20), historical: true }])).toEqual([]); // and of V2@20
    expect(m.data([s(3, 30)])).toHaveLength(1);
    expect(m.birthRepeats).toBe(2);
  });
});
