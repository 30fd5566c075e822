// Issue 17 on a clustered central broker: a 3-node RabbitMQ 3.10 cluster from Debian on this
// machine (test/helpers/rabbitmq-cluster.ts), the MQTT plugin on each node, a durable quorum
// queue (replicated on all three) bound to amq.topic and consumed over AMQP by python3-pika.
// The bridge is given all three nodes as upstream.servers (confirm: qos1, the default). The
// node it is connected to is killed (kill -9) mid-replay, then, on the next node, a second
// one: nothing is lost at the consumer, and the pause in confirmations is bounded.
// The first killed node is started again before the second kill: a quorum queue (and RabbitMQ's
// MQTT client-id registry) needs a majority of the three nodes to accept anything.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bridge } from '../src/bridge/bridge.js';
import { bridgeOptionsFromConfig } from '../src/bridge/from-config.js';
import { upstreamSchema } from '../src/config/sections/upstream.js';
import { openStore } from '../src/store/open-store.js';
import { AmqpConsumer } from './helpers/amqp-consumer.js';
import { RabbitCluster, type ClusterNode } from './helpers/rabbitmq-cluster.js';
import { sample } from './helpers/records.js';
import { until } from './helpers/until.js';

const N = 6000;
let cluster: RabbitCluster | undefined;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fg-rabbit-ha-'));
  cluster = await RabbitCluster.start(3);
}, 150_000);

afterAll(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('RabbitMQ 3-node cluster as upstream.servers', () => {
  it('loses nothing when the node in use is killed mid-replay, then the next one', async () => {
    const c = cluster as RabbitCluster;
    const [n1, n2, n3] = c.nodes as [ClusterNode, ClusterNode, ClusterNode];
    // The back end reads from the node that is never killed.
    const consumer = await AmqpConsumer.start(n3.amqpPort, 'central', '#.DDATA.#');
    // A real cluster: three running nodes, and the consumer's quorum queue has a member on each.
    const status = JSON.parse(await n3.ctl('cluster_status', '--formatter', 'json')) as { running_nodes: string[] };
    expect(status.running_nodes.sort()).toEqual(c.nodes.map((n) => n.name).sort());
    const queues = await n3.ctl('list_queues', '--formatter', 'json', 'name', 'type', 'members');
    const central = (JSON.parse(queues) as Array<{ name: string; type: string; members: string[] }>).find((q) => q.name === 'central');
    expect(central?.type).toBe('quorum');
    expect(central?.members.length).toBe(3);
    const store = openStore({ path: join(dir, 'ha.db'), maxBytes: 1 << 30, maxAgeMs: 86_400_000, onFull: 'drop-oldest', synchronous: 'normal' });
    store.outbox.append(Array.from({ length: N }, (_, i) => sample(`d${i % 30}`, i + 1, 0)));
    // Paced so that the replay is still running at the second kill.
    const cfg = upstreamSchema.parse({ servers: c.nodes.map((n) => ({ url: n.url })), protocolVersion: 4, replay: { rate: 250 } });
    const bridge = new Bridge({ ...bridgeOptionsFromConfig(cfg, { group: 'g', node: 'node' }), outbox: store.outbox });
    // The longest time nothing was confirmed while records waited: the pause a kill causes.
    let lastProgress = Date.now();
    let lastAcked = 0;
    let longestPause = 0;
    const watch = setInterval(() => {
      const acked = store.outbox.ackedThrough();
      const now = Date.now();
      if (acked > lastAcked) {
        lastAcked = acked;
        lastProgress = now;
      } else if (store.outbox.stats().depth > 0) longestPause = Math.max(longestPause, now - lastProgress);
    }, 50);
    const started = Date.now();
    try {
      bridge.start();
      await until(() => bridge.isConnected && store.outbox.ackedThrough() > 200, 30_000, 'replaying on node 1');
      expect(bridge.servers.current.index).toBe(0);
      await n1.kill9();
      const firstKill = store.outbox.ackedThrough();
      await until(() => bridge.isConnected && bridge.servers.current.index === 1, 20_000, 'moved to node 2');
      await c.restart(n1);
      await until(() => bridge.isConnected && store.outbox.ackedThrough() > firstKill + 200, 30_000, 'replaying on node 2');
      expect(store.outbox.stats().depth).toBeGreaterThan(0);
      await n2.kill9();
      const secondKill = store.outbox.ackedThrough();
      await until(() => bridge.isConnected && bridge.servers.current.index !== 1, 20_000, 'moved off node 2');
      await until(() => store.outbox.stats().depth === 0, 90_000, 'outbox drained');
      await until(() => consumer.missing(N, store.outbox.epoch).length === 0, 30_000, 'every value at the consumer').catch(() => undefined);
      const missing = consumer.missing(N, store.outbox.epoch);
      console.info(
        `RabbitMQ cluster: killed node 1 at ${firstKill} and node 2 at ${secondKill} of ${N} confirmed; ${bridge.servers.switchesTotal} switches; ` +
          `${consumer.deliveries} deliveries, ${consumer.deduper.accepted} unique, ${missing.length} missing; longest pause in confirmations ${longestPause} ms; ${Date.now() - started} ms in all`,
      );
      expect(missing).toEqual([]);
      expect(bridge.servers.switchesTotal).toBeGreaterThanOrEqual(2);
      expect(longestPause).toBeLessThan(30_000);
    } catch (e) {
      for (const n of c.nodes) console.log(n.name, n.logTail(15));
      throw e;
    } finally {
      clearInterval(watch);
      await bridge.stop();
      await consumer.stop();
      store.close();
    }
  }, 170_000);
});
