// Issue 13 against Debian's RabbitMQ 3.10 (MQTT plugin) with an AMQP 0-9-1 back end (python3-pika
// on a durable quorum queue bound to amq.topic), one private node for the whole file. A backlog
// of 6,000 Sparkplug DATA records, the RabbitMQ VM killed -9 within 200 ms of the replay
// starting, restarted; a logging proxy records every PUBLISH and PUBACK, so each value the
// consumer never saw is traced to the wire (its own PUBACK or none):
// - the default configuration (protocolVersion 5, confirm qos1), a long-lived queue: nothing
//   lost, exactly once after dedup. FG_RABBIT_RUNS=10 repeats it (the issue's 10 of 10).
// - confirm: host, with a consumer that publishes acks, on a queue RabbitMQ loses (below):
//   nothing lost.
// - the finding: RabbitMQ 3.10.8 PUBACKs messages routed to a quorum queue declared less than
//   ~0.5 s before kill -9, then restarts that queue empty and leaderless (rabbitmq-server#10070):
//   qos1 loses what it had confirmed, and nothing else (docs/store-and-forward.md, "RabbitMQ").
//   FG_RABBIT_STRICT=1 fails on that broker loss too.
// - a refused topic (topic permission) gives one FG_ERR_ line and at most 3 sessions in 10 s.
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bridge } from '../src/bridge/bridge.js';
import { bridgeOptionsFromConfig } from '../src/bridge/from-config.js';
import { upstreamSchema } from '../src/config/sections/upstream.js';
import { createLogger } from '../src/observe/logger.js';
import { MetricsRegistry } from '../src/observe/metrics.js';
import { openStore } from '../src/store/open-store.js';
import { useScratchDir } from './helpers/cleanups.js';
import { AmqpConsumer } from './helpers/amqp-consumer.js';
import { until } from './helpers/bridge-fixture.js';
import { RabbitMq } from './helpers/rabbitmq.js';
import { sample } from './helpers/records.js';
import { WireLogProxy } from './helpers/wire-log-proxy.js';
import { captureLogger } from './helpers/log-capture.js';

const RUNS = Number(process.env.FG_RABBIT_RUNS ?? 1);
const N = 6000;
const scratch = useScratchDir('fg-rabbit-confirm-');

let rabbit: RabbitMq;

beforeAll(async () => {
  rabbit = await RabbitMq.start();
}, 90_000);

afterAll(async () => {
  await rabbit?.stop();
});

/** The bridge exactly as `upstream: { url }` configures it (fast reconnects aside). */
function defaultBridge(url: string, outbox: ReturnType<typeof openStore>['outbox'], extra: Record<string, unknown> = {}, logger?: ReturnType<typeof createLogger>, metrics?: MetricsRegistry): Bridge {
  const cfg = upstreamSchema.parse({ url, reconnect: { min: '200ms', max: '2s' }, ...extra });
  return new Bridge({ ...bridgeOptionsFromConfig(cfg, { group: 'g', node: 'node' }), outbox, ...(logger ? { logger } : {}), ...(metrics ? { metrics } : {}) });
}

/**
 * The consumer side of confirm: host: what the AMQP consumer has written out (before its
 * basic.ack) counts as committed, and Deduper.acks() is published retained at QoS 1 over MQTT
 * after each commit, and in full after the ack client's own reconnects (RabbitMQ restarted).
 */
function publishAcks(consumer: AmqpConsumer): { stop: () => void } {
  const client = mqtt.connect(rabbit.url, { protocolVersion: 4, clientId: 'central-acks', reconnectPeriod: 200, connectTimeout: 2000 });
  client.on('error', () => undefined);
  client.on('connect', () => {
    for (const a of consumer.deduper.acks({ all: true })) client.publish(a.topic, a.payload, { qos: 1, retain: true });
  });
  const timer = setInterval(() => {
    if (client.connected) for (const a of consumer.deduper.acks()) client.publish(a.topic, a.payload, { qos: 1, retain: true });
  }, 50);
  return { stop: () => { clearInterval(timer); client.end(true); } };
}

interface CrashOutcome {
  missing: number[];
  /** Missing values whose own PUBLISH RabbitMQ PUBACKed (the wire log's proof). */
  brokerLost: number[];
  /** Missing values never PUBACKed: only these could be fieldgate's fault. */
  unexplained: number[];
  leaderTriggered: boolean;
}

/**
 * 6,000 buffered DATA records, the replay starts, the RabbitMQ VM is killed -9 within 200 ms,
 * restarted; then everything must drain. Returns what the consumer on `queue` never received,
 * split by what the wire says about it.
 */
async function crashRun(mode: 'qos1' | 'host', queue: string, label: string, late = false): Promise<CrashOutcome> {
  const store = openStore({ path: scratch(`${label}.db`), maxBytes: 1 << 30, maxAgeMs: 86_400_000, onFull: 'drop-oldest', synchronous: 'normal' });
  // The outage: 6,000 DATA records (QoS 0, as Sparkplug produces them) from 30 devices.
  store.outbox.append(Array.from({ length: N }, (_, i) => sample(`d${i % 30}`, i + 1, 0)));
  // late: the queue is declared and bound, but its consumer starts only after the restart, so
  // the queue holds everything RabbitMQ confirmed before the crash (a back end that lags).
  if (late) await (await AmqpConsumer.start(rabbit.amqpPort, queue, '#.DDATA.#')).stop();
  let consumer = late ? undefined : await AmqpConsumer.start(rabbit.amqpPort, queue, '#.DDATA.#');
  let acks = mode === 'host' && consumer !== undefined ? publishAcks(consumer) : undefined;
  const { lines, logger } = captureLogger('info');
  // Every PUBLISH and PUBACK on the wire, so a missing value can be traced to its PUBACK.
  const wire = new WireLogProxy(rabbit.mqttPort, 5);
  await wire.start();
  const bridge = defaultBridge(`mqtt://127.0.0.1:${wire.port}`, store.outbox, mode === 'qos1' ? {} : { confirm: mode }, logger);
  try {
    bridge.start();
    await until(() => bridge.isConnected, 20_000, 'connected');
    const startedAt = Date.now();
    await new Promise((r) => setTimeout(r, 20 + Math.floor(Math.random() * 130)));
    const depthAtKill = store.outbox.stats().depth;
    const killedAfter = Date.now() - startedAt;
    wire.mark('kill -9');
    await rabbit.kill9();
    const vmGone = wire.mark('VM gone');
    expect(killedAfter).toBeLessThan(200);
    expect(depthAtKill).toBeGreaterThan(0);
    await rabbit.restart();
    // rabbitmq-server#10070: see ensureQuorumLeader. Counted in the log line below.
    const leaderTriggered = await rabbit.ensureQuorumLeader(queue);
    consumer ??= await AmqpConsumer.start(rabbit.amqpPort, queue, '#.DDATA.#');
    const c = consumer;
    if (mode === 'host') acks ??= publishAcks(c);
    await until(() => store.outbox.stats().depth === 0, 60_000, 'outbox drained after the restart').catch((e: unknown) => {
      console.log(JSON.stringify(store.outbox.stats()), JSON.stringify(bridge.status()), c.deliveries);
      for (const l of lines.slice(-20)) console.log(JSON.stringify(l));
      console.log(c.stderr.slice(-5).join('\n'));
      try {
        console.log(rabbit.ctl('list_queues', 'name', 'type', 'messages', 'leader', 'online'));
        console.log(rabbit.ctl('list_connections', 'name', 'state', 'protocol'));
      } catch (err) {
        console.log('ctl failed', String(err));
      }
      console.log(rabbit.logTail(60));
      throw e;
    });
    // Deliveries may trail the drain: wait until all arrived, or none came for 3 s.
    for (let seen = -1, quietSince = Date.now(); c.missing(N, store.outbox.epoch).length > 0 && Date.now() - quietSince < 3000; ) {
      if (c.deliveries !== seen) [seen, quietSince] = [c.deliveries, Date.now()];
      await new Promise((r) => setTimeout(r, 50));
    }
    const missing = c.missing(N, store.outbox.epoch);
    // What the wire says about each missing value: which PUBLISH carried it and whether the
    // broker PUBACKed that packet id on that connection, before its VM died.
    const proof = wire.proof(missing, vmGone);
    console.log(`${label} (confirm ${mode}, queue ${queue}): ${leaderTriggered ? '(quorum queue had no leader after the restart: election triggered) ' : ''}killed ${killedAfter} ms into the replay with ${depthAtKill} of ${N} records in the outbox; ${c.deliveries} deliveries, ${c.deduper.accepted} unique, ${c.deduper.dropped} duplicates dropped; ${missing.length} missing${missing.length > 0 ? ` (${missing[0]}..${String(missing.at(-1))}), ${proof.brokerLost.length} of them PUBACKed by RabbitMQ (${proof.ackedBefore} before its VM died) and never delivered` : ''}`);
    if (missing.length > 0) {
      console.log(wire.timeline().join('\n'));
      console.log(wire.explain(missing).slice(0, 10).join('\n'));
    }
    // Exactly once after dedup: distinct keys of this epoch, none outside 1..N.
    const mine = c.keys.filter((k) => k.epoch === store.outbox.epoch);
    expect(new Set(mine.map((k) => k.seq)).size).toBe(N - missing.length);
    expect(mine.every((k) => k.seq >= 1 && k.seq <= N && k.node === 'g/node')).toBe(true);
    // Default protocolVersion 5: one line says it fell back to 3.1.1 (and how to pin it).
    expect(lines.filter((l) => l.code === 'FG_ERR_UPSTREAM_PROTOCOL')).toHaveLength(1);
    return { missing, brokerLost: proof.brokerLost, unexplained: proof.unexplained, leaderTriggered };
  } finally {
    await bridge.stop();
    acks?.stop();
    await wire.close();
    await consumer?.stop();
    store.close();
  }
}

/**
 * A quorum queue a back end declared long ago. RabbitMQ 3.10 registers a new quorum queue's
 * Ra server on disk only by a DETS auto-save (ra_directory, every 500 ms): killed before that,
 * it restarts the queue as a new, empty, leaderless Ra server and every message it had
 * confirmed is gone (see "fresh queue" below). 2 s is well past it (measured: lost at 0.3 s,
 * kept at 1 s and beyond).
 */
const SETTLED_QUEUE = 'central';
async function settledQueue(): Promise<void> {
  await (await AmqpConsumer.start(rabbit.amqpPort, SETTLED_QUEUE, '#.DDATA.#')).stop();
  await new Promise((r) => setTimeout(r, 2000));
}

describe('RabbitMQ kill -9 mid-replay, default configuration (confirm: qos1)', () => {
  beforeAll(settledQueue, 30_000);
  for (let run = 1; run <= RUNS; run++) {
    it(`loses nothing: every value exactly once after dedup (run ${run}/${RUNS})`, async () => {
      const out = await crashRun('qos1', SETTLED_QUEUE, `qos1-run${run}`);
      expect(out.missing).toEqual([]);
    }, 180_000);
  }
});

describe('RabbitMQ kill -9 mid-replay, confirm: host', () => {
  for (let run = 1; run <= RUNS; run++) {
    it(`loses nothing, even when RabbitMQ drops what it confirmed (run ${run}/${RUNS})`, async () => {
      // A queue as young as the broker's loss window (above), whose consumer starts only after
      // the restart: RabbitMQ loses everything it confirmed before the crash. host must not care.
      const queue = `host-${run}`;
      try {
        const out = await crashRun('host', queue, `host-run${run}`, true);
        expect(out.missing).toEqual([]);
      } finally {
        rabbit.ctl('delete_queue', queue);
      }
    }, 180_000);
  }
});

describe('RabbitMQ kill -9 mid-replay, qos1 on a quorum queue declared just before the crash', () => {
  it('loses only what RabbitMQ PUBACKed and then dropped (its loss, proven on the wire); host mode above does not', async () => {
    // Finding (issue 13): RabbitMQ 3.10.8 confirms to a quorum queue younger than ~0.5 s, and
    // after kill -9 restarts that queue empty and leaderless (rabbitmq-server#10070): every
    // message it held is gone. qos1 deleted them on their PUBACKs, so they are lost; nothing
    // else may be missing. FG_RABBIT_STRICT=1 fails on the broker's loss as well.
    const queue = 'fresh-qos1';
    try {
      const out = await crashRun('qos1', queue, 'qos1-fresh', true);
      expect(out.unexplained).toEqual([]);
      if (process.env.FG_RABBIT_STRICT === '1') expect(out.missing).toEqual([]);
    } finally {
      rabbit.ctl('delete_queue', queue);
    }
  }, 180_000);
});

describe('RabbitMQ refusing a topic', () => {
  it('logs one FG_ERR_ naming the topic and backs off: at most 3 sessions in 10 s', async () => {
    // guest may publish anything but the fence topic: the issue's ACL. confirm: fence uses it.
    rabbit.ctl('set_topic_permissions', '-p', '/', 'guest', 'amq.topic', '^(?!fieldgate\\.fence).*$', '.*');
    const store = openStore({ path: scratch('refused.db'), maxBytes: 1 << 30, maxAgeMs: 86_400_000, onFull: 'drop-oldest', synchronous: 'normal' });
    store.outbox.append(Array.from({ length: 50 }, (_, i) => sample('d1', i + 1, 0)));
    const { lines, logger } = captureLogger('info');
    const metrics = new MetricsRegistry();
    const bridge = new Bridge({
      ...bridgeOptionsFromConfig(upstreamSchema.parse({ url: rabbit.url, protocolVersion: 4, confirm: 'fence', reconnect: { min: '1s', max: '20s' } }), { group: 'g', node: 'node' }),
      outbox: store.outbox,
      fenceTopic: 'fieldgate/fence/g/node',
      logger,
      metrics,
    });
    try {
      bridge.start();
      await new Promise((r) => setTimeout(r, 10_000));
      const connected = lines.filter((l) => l.msg === 'upstream connected').length;
      const refused = lines.filter((l) => l.code === 'FG_ERR_UPSTREAM_TOPIC_REFUSED');
      console.log(`refused topic: ${connected} sessions in 10 s; ${refused.length} FG_ERR_UPSTREAM_TOPIC_REFUSED line(s): ${String(refused[0]?.msg)}`);
      expect(connected).toBeLessThanOrEqual(3);
      expect(refused).toHaveLength(1);
      expect(refused[0]?.topic).toBe('fieldgate/fence/g/node');
      expect(metrics.render()).toMatch(/fieldgate_upstream_topic_refusals_total 1/);
      // Nothing was confirmed by a refused fence: everything is still in the outbox.
      expect(store.outbox.stats().depth).toBe(50);
    } finally {
      await bridge.stop();
      store.close();
      rabbit.ctl('clear_topic_permissions', '-p', '/', 'guest');
    }
  }, 60_000);
});
