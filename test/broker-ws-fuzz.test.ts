// Issue 18: the TCP fuzz test's twin over WebSocket. Mutated MQTT packets wrapped in
// WebSocket frames, and mutated frames themselves (opcodes, flags, lengths, masks, cut
// short), over many connections while a WebSocket QoS 1 client keeps publishing: the process
// stays up and the good client loses nothing. The rate limit refuses some of them on purpose:
// a refused socket with a bad first frame used to crash the process.
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import type { Broker } from '../src/broker/index.js';
import { MetricsRegistry } from '../src/observe/metrics.js';
import { connectPacket, mutate, prng, publishGood } from './helpers/fuzz-corpus.js';
import { closeClients, collect, connectClient, sleep, startBroker } from './helpers/broker.js';
import { clientFrame, upgradeRequest } from './helpers/ws-raw.js';

const TARGET_PACKETS = Number(process.env.WS_FUZZ_PACKETS ?? 20_000);
const PARALLEL = 12;
const GOOD_MESSAGES = 500;

let broker: Broker | undefined;
afterAll(async () => {
  await closeClients();
  await broker?.close();
});

/** A frame around `payload`, sometimes broken: odd opcode, flags, no mask, wrong length, cut short. */
function fuzzFrame(rnd: () => number, payload: Buffer): Buffer {
  const r = rnd();
  if (r < 0.6) return clientFrame(0x2, payload);
  if (r < 0.65) return clientFrame(0x2, payload, { fin: false });
  if (r < 0.7) return clientFrame(Math.floor(rnd() * 16), payload.subarray(0, Math.floor(rnd() * 200)), { fin: rnd() < 0.5 });
  if (r < 0.75) return clientFrame(0x2, payload, { mask: false });
  if (r < 0.8) return clientFrame(0x2, payload, { rsv: 1 + Math.floor(rnd() * 7) });
  const f = clientFrame(0x2, payload);
  if (r < 0.9) {
    const i = Math.floor(rnd() * f.length);
    f[i] = Math.floor(rnd() * 256);
    return f;
  }
  return f.subarray(0, Math.floor(rnd() * f.length));
}

function fuzzConnection(port: number, rnd: () => number, id: number, budget: { left: number; sent: number }): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const v = rnd() < 0.5 ? 4 : 5;
    s.on('error', () => undefined);
    s.on('close', () => resolve());
    s.on('data', () => undefined);
    s.once('connect', () => {
      const frames: Buffer[] = [fuzzFrame(rnd, rnd() < 0.1 ? mutate(rnd, v) : connectPacket(v, `wz-${id}`, rnd))];
      const burst = 1 + Math.floor(rnd() * 40);
      for (let i = 0; i < burst && budget.left > 0; i++) {
        frames.push(fuzzFrame(rnd, mutate(rnd, v)));
        budget.left--;
        budget.sent++;
      }
      budget.sent++;
      budget.left--;
      // The upgrade and the first frames in one write: the frames reach the server as `head`.
      s.end(Buffer.concat([Buffer.from(upgradeRequest()), ...frames]));
    });
  });
}

describe('broker WebSocket fuzz', () => {
  it(`survives ${TARGET_PACKETS} mutated packets in mutated WebSocket frames while a QoS 1 client loses nothing`, async () => {
    const metrics = new MetricsRegistry();
    const errors: Error[] = [];
    const onError = (err: Error) => errors.push(err);
    process.on('uncaughtException', onError);
    try {
      const started = await startBroker(
        {
          listeners: [{ host: '127.0.0.1', port: 0 }, { host: '127.0.0.1', port: 0, protocol: 'ws' }],
          limits: { connectionsPerSecondPerAddress: 30, maxConnections: 10_000, maxPendingPerAddress: 10_000, maxPendingConnections: 10_000, maxPacketSize: '64KiB', connectTimeout: '1s', maxSessionExpiry: '1s' },
        },
        { metrics },
      );
      broker = started.broker;
      const wsPort = broker.addresses()[1]!.port;
      const wsUrl = `ws://127.0.0.1:${wsPort}/mqtt`;
      const sub = await connectClient(wsUrl, { clientId: 'good-sub' });
      const pub = await connectClient(wsUrl, { clientId: 'good-pub' });
      await sub.subscribeAsync('good/#', { qos: 1 });
      const inbox = collect(sub);
      const rnd = prng(0x3e11);
      const budget = { left: TARGET_PACKETS, sent: 0 };
      let connections = 0;
      const workers = Array.from({ length: PARALLEL }, async () => {
        while (budget.left > 0) await fuzzConnection(wsPort, rnd, connections++, budget);
      });
      const good = publishGood(pub, GOOD_MESSAGES, 20, budget);
      await Promise.all([...workers, good]);
      const got = await inbox.next(GOOD_MESSAGES, 15_000);
      expect(new Set(got.map((m) => m.payload.toString())).size).toBe(GOOD_MESSAGES);
      expect(sub.connected && pub.connected).toBe(true);
      expect(errors).toEqual([]);
      for (let i = 0; i < 100 && broker.clientCount > 2; i++) await sleep(50);
      expect(broker.clientCount).toBe(2);
      console.info(`ws fuzz: ${budget.sent} packets over ${connections} WebSocket connections`);
    } finally {
      process.off('uncaughtException', onError);
    }
  }, 90_000);
});
