// `fieldgate host` on a real Mosquitto with a scripted Sparkplug edge node (MQTT 5, fg dedup
// keys as user properties): STATE, lifecycle, rebirth on a seq gap, exactly-once across a host
// restart, confirmations, export, HTTP (issue 14).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostSchema } from '../../src/config/sections/host.js';
import { Host } from '../../src/host/host.js';
import { exportHistory } from '../../src/host/export.js';
import { SqliteHistory } from '../../src/host/sqlite-history.js';
import { silentLogger } from '../../src/observe/logger.js';
import { DataType } from '../../src/sparkplug/datatypes.js';
import { decodePayload } from '../../src/sparkplug/payload.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { until } from '../helpers/until.js';
import { EPOCH, G, N, ScriptedEdge } from './scripted-edge.js';


describe('fieldgate host', () => {
  let broker: Mosquitto;
  let dir: string;
  let host: Host;
  let edge: ScriptedEdge;
  let observer: MqttClient;
  const seen: Array<{ topic: string; payload: Buffer; retain: boolean }> = [];

  const cfg = () =>
    hostSchema.parse({ id: 'scada-1', broker: { url: broker.url }, store: { path: join(dir, 'host.db') }, http: { port: 0 }, batch: { maxDelay: '20ms' }, rebirthInterval: '2s' });

  beforeAll(async () => {
    broker = await Mosquitto.start();
    dir = mkdtempSync(join(tmpdir(), 'fg-host-'));
    host = new Host(cfg(), silentLogger());
    await host.start();
    observer = mqtt.connect(broker.url, { protocolVersion: 5 });
    observer.on('message', (topic, payload, packet) => seen.push({ topic, payload, retain: packet.retain }));
    await new Promise<void>((r) => observer.once('connect', () => observer.subscribe(['spBv1.0/+/NCMD/#', 'fieldgate/ack/#', 'spBv1.0/STATE/#'], { qos: 1 }, () => r())));
    edge = await ScriptedEdge.connect(broker.url);
  }, 20_000);

  afterAll(async () => {
    await new Promise<void>((r) => edge?.client.end(true, {}, () => r()));
    await new Promise<void>((r) => observer?.end(true, {}, () => r()));
    await host?.stop();
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const exported = async (h: Host): Promise<Array<Record<string, unknown>>> => {
    await h.ingest.flush();
    const store = new SqliteHistory(join(dir, 'host.db'));
    const lines: string[] = [];
    await exportHistory(store, {}, 'jsonl', (s) => lines.push(s));
    await store.close();
    return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  };
  const acks = () => seen.filter((m) => m.topic === `fieldgate/ack/${G}/${N}`).map((m) => JSON.parse(m.payload.toString()) as { epoch: string; through: number });

  it('publishes its STATE birth retained, tracks births and stores each keyed sample once', async () => {
    await until(() => seen.some((m) => m.topic === 'spBv1.0/STATE/scada-1' && JSON.parse(m.payload.toString()).online === true), 10_000, 'STATE online');
    edge.birth(3);
    for (let k = 1; k <= 20; k++) edge.data(k, k / 2);
    // The replay after a lost PUBACK: the same records again, in a new Sparkplug seq.
    for (let k = 15; k <= 20; k++) edge.data(k, k / 2, true);
    edge.data(undefined, 99);
    await until(() => host.ingest.stats.messages >= 29, 10_000, 'messages');
    const rows = await exported(host);
    // The DBIRTH's values first (docs/host.md, "Births"), then each keyed record once.
    expect(rows.filter((r) => r.metric === 'flow').map((r) => r.value)).toEqual([0, ...Array.from({ length: 20 }, (_, i) => (i + 1) / 2), 99]);
    expect(rows.filter((r) => r.metric === 'count')[1]).toMatchObject({ node: `${G}/${N}`, device: 'pump', datatype: DataType.Int64, value: '9007199254740994', quality: 192, historical: false });
    expect(host.ingest.stats.dedupDrops).toBe(6);
    const node = host.lifecycle.get(G, N);
    expect(node).toMatchObject({ online: true, bdSeq: '3' });
    expect(node.devices.get('pump')?.online).toBe(true);
    expect(node.counters.rebirthsRequested).toBe(0);
    await until(() => acks().at(-1)?.through === 20, 5000, 'confirmation through 20');
    expect(acks().at(-1)).toEqual({ epoch: EPOCH, through: 20 });
    expect(seen.find((m) => m.topic.startsWith('fieldgate/ack/'))?.retain).toBe(false); // live delivery; retained copy checked below
  });

  it('a seq gap asks for one rebirth, rate-limited; the rebirth restores the stream', async () => {
    const ncmds = () => seen.filter((m) => m.topic === `spBv1.0/${G}/NCMD/${N}`);
    edge.seq += 1; // one message "lost"
    edge.data(21, 10.5);
    edge.seq += 1;
    edge.data(22, 11);
    await until(() => ncmds().length >= 1, 5000, 'rebirth NCMD');
    await until(() => host.lifecycle.get(G, N).counters.seqGaps === 2, 5000, 'second gap');
    await new Promise((r) => setTimeout(r, 300));
    expect(ncmds()).toHaveLength(1);
    const cmd = decodePayload(ncmds()[0]!.payload);
    expect(cmd.metrics[0]).toMatchObject({ name: 'Node Control/Rebirth' });
    expect(cmd.metrics[0]!.value()).toBe(true);
    expect(host.lifecycle.get(G, N).counters.rebirthsRequested).toBe(1);
    expect(host.rebirths.suppressed).toBe(1);
  });

  it('ignores a stale NDEATH and honours the matching one', async () => {
    edge.send('NDEATH', [{ name: 'bdSeq', type: DataType.UInt64, value: 2n }], { noSeq: true });
    await until(() => host.lifecycle.get(G, N).counters.staleDeaths === 1, 5000, 'stale death');
    expect(host.lifecycle.get(G, N).online).toBe(true);
    edge.send('NDEATH', [{ name: 'bdSeq', type: DataType.UInt64, value: 3n }], { noSeq: true });
    await until(() => !host.lifecycle.get(G, N).online, 5000, 'offline');
    expect(host.lifecycle.get(G, N).devices.get('pump')?.online).toBe(false);
  });

  it('serves the live page, the JSON API and /metrics', async () => {
    const base = `http://127.0.0.1:${host.httpPort}`;
    const api = (await (await fetch(`${base}/api/nodes`)).json()) as { nodes: Array<{ node: string; dedupDrops: number; confirmation?: { through: number } }> };
    expect(api.nodes.find((n) => n.node === `${G}/${N}`)).toMatchObject({ dedupDrops: 6, confirmation: { through: 22 } });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain(`fieldgate_host_node_rebirths_requested_total{node="${G}/${N}"} 1`);
    expect(metrics).toMatch(/fieldgate_host_dedup_drops_total 6/);
    expect(await (await fetch(base)).text()).toContain('/api/nodes');
  });

  it('after a restart keeps the ranges: a replay of stored records is dropped, new ones stored', async () => {
    await host.stop();
    host = new Host(cfg(), silentLogger());
    await host.start();
    await until(() => host.session?.connected === true, 10_000, 'reconnected');
    edge.birth(4);
    for (let k = 18; k <= 25; k++) edge.data(k, k / 2, true);
    await until(() => host.ingest.stats.messages >= 10, 10_000, 'messages after restart');
    const rows = await exported(host);
    const keyed = rows.filter((r) => r.metric === 'flow' && r.value !== 99).map((r) => r.value);
    // The rebirth repeated the birth value with its time: not stored again.
    expect(keyed).toEqual([0, ...Array.from({ length: 25 }, (_, i) => (i + 1) / 2)]);
    expect(rows.filter((r) => r.metric === 'flow' && (r.value as number) > 11 && r.value !== 99).every((r) => r.historical === true)).toBe(true);
    expect(host.ingest.stats.dedupDrops).toBe(5);
    await until(() => acks().at(-1)?.through === 25, 5000, 'confirmation through 25');
    // The confirmation is retained: an edge that connects later reads it at once.
    const late = mqtt.connect(broker.url, { protocolVersion: 5 });
    const retained = await new Promise<string>((r) => {
      late.on('message', (_t, p) => r(p.toString()));
      late.once('connect', () => late.subscribe(`fieldgate/ack/${G}/${N}`, { qos: 1 }));
    });
    await new Promise<void>((r) => late.end(true, {}, () => r()));
    expect(JSON.parse(retained)).toEqual({ epoch: EPOCH, through: 25 });
  });
});
