// Issue 18 items 2 and 7: replies to a client that never reads are bounded. Whatever it draws
// (PINGRESP, PUBACK, PUBREC, PUBCOMP, SUBACK, UNSUBACK, WebSocket PONG), once its unsent bytes
// pass maxWriteBuffer it is disconnected and counted, and the process's RSS stays bounded. A
// non-reading QoS 1 subscriber costs only itself: its queue drops by policy while the
// publisher and the other subscribers go on.
import net from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { collect, connectClient, sleep, useBroker } from '../../test/helpers/broker.js';
import { clientFrame, wsHandshake } from '../../test/helpers/ws-raw.js';
import { MetricsRegistry } from '../observe/metrics.js';
import type { Broker } from './index.js';

let broker: Broker | undefined;
const startBroker = useBroker();

const LIMITS = { maxWriteBuffer: '64KiB', connectionsPerSecondPerAddress: 0 };
const ATTACK_BYTES = 24 * 1024 * 1024;

function slowClients(metrics: MetricsRegistry): number {
  return Number(/fieldgate_broker_slow_clients_disconnected_total (\d+)/.exec(metrics.render())?.[1] ?? 0);
}

/** Writes `unit` repeatedly (never reading) until ATTACK_BYTES are sent or the broker closes us. */
async function flood(s: net.Socket, unit: Buffer): Promise<{ closed: boolean; sent: number }> {
  let closed = false;
  s.once('close', () => (closed = true));
  const batch = Buffer.concat(Array.from({ length: Math.ceil(65_536 / unit.length) }, () => unit));
  let sent = 0;
  while (!closed && sent < ATTACK_BYTES) {
    if (!s.write(batch)) await Promise.race([new Promise((r) => s.once('drain', r)), sleep(200)]);
    sent += batch.length;
  }
  for (let i = 0; i < 100 && !closed; i++) await sleep(50);
  return { closed, sent };
}

const v4 = (p: Packet) => mqttPacket.generate(p);
const kinds: Array<[string, Buffer, Buffer?]> = [
  ['PINGRESP', v4({ cmd: 'pingreq' })],
  ['PUBACK', v4({ cmd: 'publish', topic: 'a', payload: Buffer.alloc(0), qos: 1, messageId: 7, dup: false, retain: false })],
  ['PUBREC', v4({ cmd: 'publish', topic: 'a', payload: Buffer.alloc(0), qos: 2, messageId: 7, dup: true, retain: false })],
  ['PUBCOMP', v4({ cmd: 'pubrel', messageId: 9 })],
  ['SUBACK', v4({ cmd: 'subscribe', messageId: 3, subscriptions: [{ topic: 'x', qos: 0 }] })],
  ['UNSUBACK', v4({ cmd: 'unsubscribe', messageId: 4, unsubscriptions: ['x'] })],
];

describe('write backpressure on every reply kind (issue 18)', () => {
  for (const [kind, unit] of kinds) {
    it(`a client drawing ${kind}s without reading is disconnected and counted; RSS stays bounded`, async () => {
      const metrics = new MetricsRegistry();
      const s = await startBroker({ limits: LIMITS }, { metrics });
      broker = s.broker;
      const rss0 = process.memoryUsage().rss;
      const sock = net.connect(s.port, '127.0.0.1');
      sock.on('error', () => undefined);
      await new Promise((r) => sock.once('connect', r));
      sock.write(v4({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: `flood-${kind}`, clean: true, keepalive: 60 }));
      sock.pause(); // never reads
      const { closed } = await flood(sock, unit);
      const growthMiB = (process.memoryUsage().rss - rss0) / 1048576;
      console.info(`non-reading ${kind} client: RSS growth ${growthMiB.toFixed(1)} MiB, closed: ${closed}`);
      sock.destroy();
      expect(closed).toBe(true);
      expect(slowClients(metrics)).toBe(1);
      expect(growthMiB).toBeLessThan(64);
      const other = await connectClient(s.url, { clientId: 'still-served' });
      expect(other.connected).toBe(true);
    }, 60_000);
  }

  it('a WebSocket client pinging without reading is disconnected and counted', async () => {
    const metrics = new MetricsRegistry();
    const s = await startBroker({ listeners: [{ host: '127.0.0.1', port: 0, protocol: 'ws' }], limits: LIMITS }, { metrics });
    broker = s.broker;
    const ws = await wsHandshake(s.port);
    ws.s.pause();
    const { closed } = await flood(ws.s, clientFrame(0x9, Buffer.alloc(100)));
    ws.s.destroy();
    expect(closed).toBe(true);
    expect(slowClients(metrics)).toBe(1);
  }, 60_000);
});

describe('a non-reading QoS 1 subscriber costs only itself (issue 18 item 7)', () => {
  it('the publisher and the other subscriber go on at full pace; its queue drops by policy', async () => {
    const metrics = new MetricsRegistry();
    const s = await startBroker({ limits: { maxQueued: 200 } }, { metrics });
    broker = s.broker;
    const dead = net.connect(s.port, '127.0.0.1');
    dead.on('error', () => undefined);
    await new Promise((r) => dead.once('connect', r));
    dead.write(v4({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'dead', clean: true, keepalive: 60 }));
    dead.write(v4({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'slow/#', qos: 1 }] }));
    await sleep(100);
    dead.pause(); // never acks, never reads
    const good = await connectClient(s.url, { clientId: 'good' });
    await good.subscribeAsync('slow/#', { qos: 1 });
    const inbox = collect(good);
    const pub = await connectClient(s.url, { clientId: 'pub' });
    const t0 = Date.now();
    const N = 3000;
    for (let i = 0; i < N; i += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => pub.publishAsync(`slow/${i + j}`, String(i + j), { qos: 1 })));
    const seconds = (Date.now() - t0) / 1000;
    await inbox.next(N, 10_000);
    expect(new Set(inbox.got.map((m) => m.payload.toString())).size).toBe(N);
    expect(seconds).toBeLessThan(8);
    expect(metrics.render()).toMatch(/fieldgate_broker_messages_dropped_total\{reason="queue-full"\} \d+/);
    dead.destroy();
  }, 60_000);
});
