// Issue 3 "Done when": >= 100,000 malformed or mutated packets over many connections while a
// well-behaved QoS 1 client keeps publishing and receiving; the broker stays up, the good
// client loses nothing, memory returns near its baseline.
import net from 'node:net';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import type { Broker } from '../src/broker/index.js';
import { MetricsRegistry } from '../src/observe/metrics.js';
import { connectPacket, mutate, prng, publishGood } from './helpers/fuzz-corpus.js';
import { closeClients, collect, connectClient, sleep, startBroker } from './helpers/broker.js';

v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const TARGET_PACKETS = Number(process.env.FUZZ_PACKETS ?? 100_000);
const PARALLEL = 16;
const GOOD_MESSAGES = 2_000;

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

let broker: Broker | undefined;
afterAll(async () => {
  await closeClients();
  await broker?.close();
});

/** One fuzzing connection: CONNECT (sometimes mutated), then mutated packets until closed or done. */
function fuzzConnection(port: number, rnd: () => number, id: number, budget: { left: number; sent: number }): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const v = rnd() < 0.5 ? 4 : 5;
    let open = true;
    s.on('error', () => undefined);
    s.on('close', () => {
      open = false;
      resolve();
    });
    s.on('data', () => undefined);
    s.once('connect', () => {
      s.write(rnd() < 0.1 ? mutate(rnd, v) : connectPacket(v, `fz-${id}`, rnd));
      budget.sent++;
      budget.left--;
      const burst = 1 + Math.floor(rnd() * 60);
      const chunks: Buffer[] = [];
      for (let i = 0; i < burst && budget.left > 0; i++) {
        chunks.push(mutate(rnd, v));
        budget.left--;
        budget.sent++;
      }
      if (open) s.end(Buffer.concat(chunks));
    });
  });
}

describe('broker fuzz', () => {
  it(`survives ${TARGET_PACKETS} malformed or mutated packets while a QoS 1 client loses nothing`, async () => {
    const metrics = new MetricsRegistry();
    const started = await startBroker({ limits: { connectionsPerSecondPerAddress: 0, maxConnections: 10_000, maxPacketSize: '64KiB', connectTimeout: '1s', maxSessionExpiry: '1s' } }, { metrics });
    broker = started.broker;
    const sub = await connectClient(started.url, { clientId: 'good-sub', clean: false });
    const pub = await connectClient(started.url, { clientId: 'good-pub' });
    await sub.subscribeAsync('good/#', { qos: 1 });
    const inbox = collect(sub);
    const baseline = heapAfterGc();

    const rnd = prng(0x5eed);
    const budget = { left: TARGET_PACKETS, sent: 0 };
    let connections = 0;
    const workers = Array.from({ length: PARALLEL }, async () => {
      while (budget.left > 0) await fuzzConnection(started.port, rnd, connections++, budget);
    });
    // The good publisher runs alongside the fuzzers, spread over their whole run.
    const good = publishGood(pub, GOOD_MESSAGES, 50, budget);
    const t0 = Date.now();
    await Promise.all([...workers, good]);
    const got = await inbox.next(GOOD_MESSAGES, 15_000);
    const seconds = (Date.now() - t0) / 1000;

    expect(budget.sent).toBeGreaterThanOrEqual(TARGET_PACKETS);
    expect(new Set(got.map((m) => Number(m.payload.toString()))).size).toBe(GOOD_MESSAGES);
    expect(sub.connected && pub.connected).toBe(true);
    // Every fuzz connection is gone; only the two good clients remain.
    for (let i = 0; i < 100 && broker.clientCount > 2; i++) await sleep(50);
    expect(broker.clientCount).toBe(2);
    const protocolErrors = Number(/fieldgate_broker_protocol_errors_total (\d+)/.exec(metrics.render())?.[1] ?? 0);
    expect(protocolErrors).toBeGreaterThan(1000);

    // Fuzz sessions (1 s expiry) and half-open sockets (1 s connect timeout) run out meanwhile.
    await sleep(1500);
    inbox.got.length = 0; // the test's own copies of the good messages are not the broker's memory
    const after = heapAfterGc();
    const growthMiB = (after - baseline) / 1024 / 1024;
    console.info(`fuzz: ${budget.sent} packets over ${connections} connections in ${seconds.toFixed(1)} s; ${protocolErrors} protocol errors; ${broker.retainedCount} retained left, ${(broker as unknown as { core: { sessions: Map<string, unknown> } }).core.sessions.size} sessions; heap ${(baseline / 1048576).toFixed(1)} -> ${(after / 1048576).toFixed(1)} MiB`);
    expect(growthMiB).toBeLessThan(8);
  }, 90_000);
});
