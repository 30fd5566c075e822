// Shared fixtures for broker tests: a real broker on an ephemeral loopback port and real
// mqtt.js clients; raw sockets where the bytes are the point.
import net from 'node:net';
import { afterEach } from 'vitest';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { brokerSchema } from '../../src/config/sections/broker.js';
import { Broker, type BrokerDeps } from '../../src/broker/index.js';

export async function startBroker(overrides: Record<string, unknown> = {}, deps: BrokerDeps = {}): Promise<{ broker: Broker; port: number; url: string }> {
  const config = brokerSchema.parse({ listeners: [{ host: '127.0.0.1', port: 0 }], sysInterval: false, ...overrides });
  const broker = new Broker(config, deps);
  await broker.listen();
  const port = broker.addresses()[0]!.port;
  return { broker, port, url: `mqtt://127.0.0.1:${port}` };
}

const clients: MqttClient[] = [];

export async function connectClient(url: string, opts: IClientOptions = {}): Promise<MqttClient> {
  return (await connectWithAck(url, opts)).client;
}

export async function connectWithAck(url: string, opts: IClientOptions = {}): Promise<{ client: MqttClient; connack: mqtt.IConnackPacket }> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
  clients.push(client);
  // Listening from the start: messages for a resumed session can arrive with the CONNACK.
  collect(client);
  const connack = await new Promise<mqtt.IConnackPacket>((resolve, reject) => {
    client.once('connect', (p) => resolve(p));
    client.once('error', reject);
    client.once('close', () => reject(new Error('closed before CONNACK')));
  });
  return { client, connack };
}

export async function closeClients(): Promise<void> {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
}

export interface Received {
  topic: string;
  payload: Buffer;
  packet: mqtt.IPublishPacket;
}

const inboxes = new WeakMap<MqttClient, Inbox>();

export interface Inbox {
  got: Received[];
  next(n: number, ms?: number): Promise<Received[]>;
}

/** Collects messages; `next(n)` resolves once n have arrived, or rejects after `ms`. */
export function collect(client: MqttClient): Inbox {
  const existing = inboxes.get(client);
  if (existing !== undefined) return existing;
  const got: Received[] = [];
  let waiter: { n: number; resolve: () => void } | undefined;
  client.on('message', (topic, payload, packet) => {
    got.push({ topic, payload, packet });
    if (waiter !== undefined && got.length >= waiter.n) waiter.resolve();
  });
  const inbox: Inbox = {
    got,
    async next(n: number, ms = 3000): Promise<Received[]> {
      if (got.length < n) {
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`expected ${n} messages, got ${got.length}`)), ms);
          waiter = { n, resolve: () => { clearTimeout(t); resolve(); } };
        });
      }
      return got.slice(0, n);
    },
  };
  inboxes.set(client, inbox);
  return inbox;
}

/** Raw TCP client for byte-level tests. */
export async function rawSocket(port: number): Promise<net.Socket> {
  const s = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    s.once('error', reject);
  });
  return s;
}

/** Resolves with everything the server sent once it closes the socket (or rejects after ms). */
export function untilClosed(s: net.Socket, ms = 3000): Promise<Buffer> {
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('socket still open')), ms);
    s.once('close', () => {
      clearTimeout(t);
      resolve(Buffer.concat(chunks));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * The one broker setup for a test file: returns startBroker() that also closes, after each
 * test, every client connected through this module and every broker it started.
 */
export function useBroker(): typeof startBroker {
  const started: Broker[] = [];
  afterEach(async () => {
    await closeClients();
    await Promise.all(started.splice(0).map((b) => b.close()));
  });
  return async (overrides = {}, deps = {}) => {
    const r = await startBroker(overrides, deps);
    started.push(r.broker);
    return r;
  };
}
