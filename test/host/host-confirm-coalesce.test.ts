// Issue 14 bench: at full rate nearly every commit advanced every node, and the host published
// one QoS 1 confirmation per node per commit. It now keeps at most one per node on its way to
// the broker and sends the newest state when that one is acknowledged: fewer publishes, and the
// edge still gets its latest `through`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostSchema } from '../../src/config/sections/host.js';
import { Host } from '../../src/host/host.js';
import { silentLogger } from '../../src/observe/logger.js';
import { FleetNode } from '../helpers/fleet.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { until } from '../helpers/until.js';

describe('host confirmations at full rate', () => {
  let broker: Mosquitto;
  let dir: string;
  let host: Host;

  beforeAll(async () => {
    broker = await Mosquitto.start();
    dir = mkdtempSync(join(tmpdir(), 'fg-host-coalesce-'));
    // One commit per message: the most confirmations the old path could send.
    host = new Host(hostSchema.parse({ id: 'scada-c', broker: { url: broker.url }, store: { path: join(dir, 'host.db') }, batch: { maxSamples: 1, maxDelay: '1s' } }), silentLogger());
    await host.start();
    await until(() => host.session?.connected === true, 10_000, 'host connected');
  }, 20_000);

  afterAll(async () => {
    await host?.stop();
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends the newest through for every node, with at most one confirmation per node in flight', async () => {
    const acks = new Map<string, number[]>();
    const watcher = mqtt.connect(broker.url, { protocolVersion: 5 });
    watcher.on('message', (topic, payload) => {
      const node = topic.slice('fieldgate/ack/'.length);
      acks.set(node, [...(acks.get(node) ?? []), (JSON.parse(payload.toString()) as { through: number }).through]);
    });
    await new Promise<void>((r) => watcher.once('connect', () => watcher.subscribe('fieldgate/ack/#', { qos: 1 }, () => r())));
    const edges = [new FleetNode(broker.url, 'cg', 'a', 2), new FleetNode(broker.url, 'cg', 'b', 2)];
    await Promise.all(edges.map((e) => e.ready()));
    for (const e of edges) e.birth();
    for (let i = 0; i < 300; i++) for (const e of edges) e.data();
    await until(() => edges.every((e) => acks.get(`cg/${e.node}`)?.at(-1) === 300), 20_000, 'the newest through of both nodes');
    const sent = edges.map((e) => acks.get(`cg/${e.node}`)?.length ?? 0);
    await Promise.all(edges.map((e) => e.end()));
    await new Promise<void>((r) => watcher.end(true, {}, () => r()));
    // 300 commits a node; the old path published one confirmation for each.
    for (const n of sent) expect(n).toBeLessThan(150);
    // Through only grows: each one sent is a newer state.
    for (const e of edges) {
      const seq = acks.get(`cg/${e.node}`) ?? [];
      expect(seq).toEqual([...seq].sort((x, y) => x - y));
    }
  }, 40_000);
});
