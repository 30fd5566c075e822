// Issue 14: the PostgreSQL history store (Debian's postgresql 15, a throwaway cluster) with the
// same guarantees as SQLite: each keyed sample stored once, across a host restart the ranges
// hold, values keep their type, export reads it back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { hostSchema } from '../../src/config/sections/host.js';
import { Host } from '../../src/host/host.js';
import { exportHistory } from '../../src/host/export.js';
import { PgHistory } from '../../src/host/pg-history.js';
import { silentLogger } from '../../src/observe/logger.js';
import { FLEET_TS0, FleetNode } from '../helpers/fleet.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { Postgres } from '../helpers/postgres.js';
import { until } from '../helpers/until.js';

describe('fieldgate host on PostgreSQL', () => {
  let pg: Postgres;
  let broker: Mosquitto;
  let host: Host;
  let edge: FleetNode;

  const cfg = () => hostSchema.parse({ id: 'scada-pg', broker: { url: broker.url }, store: { postgres: { url: pg.url } }, batch: { maxDelay: '10ms' } });

  beforeAll(async () => {
    pg = await Postgres.start();
    broker = await Mosquitto.start();
    host = new Host(cfg(), silentLogger());
    await host.start();
    await until(() => host.session?.connected === true, 10_000, 'host connected');
    edge = new FleetNode(broker.url, 'pgg', 'edge', 3);
    await edge.ready();
  }, 90_000);

  afterAll(async () => {
    await edge?.end();
    await host?.stop();
    await broker?.close();
    pg?.stop();
  });

  const rows = async (): Promise<Array<{ metric: string; timestamp: number; value: unknown }>> => {
    await host.ingest.flush();
    const store = await PgHistory.open(pg.url);
    const out: string[] = [];
    await exportHistory(store, { node: 'pgg/edge' }, 'jsonl', (s) => out.push(s));
    await store.close();
    return out.map((l) => JSON.parse(l) as { metric: string; timestamp: number; value: unknown });
  };

  it('stores each keyed sample once, keeps its ranges across a restart, confirms', async () => {
    const acks: string[] = [];
    const watcher = mqtt.connect(broker.url, { protocolVersion: 5 });
    watcher.on('message', (_t, p) => acks.push(p.toString()));
    await new Promise<void>((r) => watcher.once('connect', () => watcher.subscribe('fieldgate/ack/#', { qos: 1 }, () => r())));
    edge.birth();
    for (let i = 0; i < 20; i++) edge.data();
    // A replay of 11..20 after a lost ack.
    edge.key = 10;
    for (let i = 0; i < 10; i++) edge.data();
    await until(() => host.ingest.stats.messages >= 31, 10_000, 'messages');
    let r = await rows();
    // 20 keys x 3 metrics, and the birth's 3 values (key 0, stored once; docs/host.md "Births").
    expect(r).toHaveLength(63);
    expect(r.find((x) => x.metric === 'm2' && x.timestamp === FLEET_TS0 + 7)?.value).toBe(7002);
    expect(host.ingest.stats.dedupDrops).toBe(10);
    await until(() => acks.some((a) => JSON.parse(a).through === 20), 5000, 'ack 20');

    await host.stop();
    host = new Host(cfg(), silentLogger());
    await host.start();
    await until(() => host.session?.connected === true, 10_000, 'reconnected');
    edge.birth();
    edge.key = 15;
    for (let i = 0; i < 10; i++) edge.data();
    await until(() => host.ingest.stats.messages >= 11, 10_000, 'messages after restart');
    r = await rows();
    // The rebirth after the restart repeats the birth values: nothing new (the series memory).
    expect(r).toHaveLength(78);
    expect(new Set(r.map((x) => `${x.metric}|${x.timestamp}`)).size).toBe(78);
    expect(host.ingest.stats.dedupDrops).toBe(5);
    await new Promise<void>((res) => watcher.end(true, {}, () => res()));
  }, 60_000);

  it('a host killed between series checkpoints recomputes the newest times from the samples', async () => {
    const a = await PgHistory.open(pg.url);
    const sample = (metric: string, ts: number) => ({ node: 'pgc/n', device: '', metric, datatype: 10, value: 1, quality: 192, ts, historical: false });
    await a.commit([sample('x', 10)], [], [], [{ node: 'pgc/n', device: '', metric: 'x', lastTs: 10, birthTs: 10, birthQuality: 192, birthValue: 'd:1' }], true);
    await a.commit([sample('x', 30), sample('y', 20)], [], []);
    await a.close();
    const b = await PgHistory.open(pg.url);
    const mine = (await b.seriesState()).filter((r) => r.node === 'pgc/n').sort((p, q) => p.metric.localeCompare(q.metric));
    await b.close();
    expect(mine).toEqual([
      { node: 'pgc/n', device: '', metric: 'x', lastTs: 30, birthTs: 10, birthQuality: 192, birthValue: 'd:1' },
      { node: 'pgc/n', device: '', metric: 'y', lastTs: 20, birthTs: null, birthQuality: null, birthValue: null },
    ]);
  });

  it('a real metric with a whole value stays a real; integers stay exact (the column follows the datatype)', async () => {
    const a = await PgHistory.open(pg.url);
    const s = (metric: string, datatype: number, value: number | bigint | string) => ({ node: 'pgt/n', device: '', metric, datatype, value, quality: 192, ts: 1, historical: false });
    await a.commit([s('d', 10, 5), s('f', 9, 2), s('r', 10, 2.5), s('i', 3, 7), s('u', 8, 18446744073709551615n)], [], []);
    // The array literals the store writes itself: special reals, tiny reals, negative integers, text beside them.
    await a.commit([s('nan', 10, NaN), s('inf', 10, -Infinity), s('tiny', 10, -2.5e-7), s('neg', 4, -9), s('t', 12, 'a "b",{c}\\')], [], []);
    const got: Record<string, unknown> = {};
    for await (const r of a.rows({ node: 'pgt/n' })) got[r.metric] = r.value;
    await a.close();
    expect(got).toEqual({ d: 5, f: 2, r: 2.5, i: 7n, u: 18446744073709551615n, nan: NaN, inf: -Infinity, tiny: -2.5e-7, neg: -9n, t: 'a "b",{c}\\' });
  });
});
