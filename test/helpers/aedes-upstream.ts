// A real MQTT 3.1.1 upstream for tests: aedes on a loopback TCP port. It records every
// PUBLISH a client sent (with the dedup key read back from it) and can be stopped and
// restarted on the same port to play an outage.
import net, { type AddressInfo, type Socket } from 'node:net';
import tls from 'node:tls';
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { Aedes, type AedesOptions, type PublishPacket } from 'aedes';
import { extractDedupKey, type DedupKey } from '../../src/bridge/dedup-key.js';

export interface Received {
  topic: string;
  payload: Buffer;
  qos: number;
  key: DedupKey | undefined;
  /** Order of arrival across the whole test, restarts included. */
  index: number;
}

export type Transport = 'tcp' | 'tls' | 'ws' | 'wss';

export interface TransportOptions {
  transport?: Transport;
  /** PEM material for tls / wss; `ca` plus `requestCert` asks for a client certificate. */
  tls?: { key: Buffer; cert: Buffer; ca?: Buffer; requestCert?: boolean };
}

export class AedesUpstream {
  port = 0;
  readonly received: Received[] = [];
  private server: net.Server | undefined;
  private sockets = new Set<Socket>();
  private waiters: Array<{ n: number; resolve: () => void }> = [];
  /** Set to hold PUBLISHes (and so their PUBACKs) until released. */
  hold = false;
  private held: Array<() => void> = [];
  maxHeld = 0;
  /** Topic filters any client has subscribed to. */
  readonly subscribed = new Set<string>();
  /** Every CONNECT accepted: client id and its Clean Session flag. */
  readonly connects: Array<{ id: string; clean: boolean }> = [];

  private transport: TransportOptions = {};

  private constructor(private readonly broker: Aedes) {}

  /** A started broker whose close() goes on the test's cleanups. */
  static async started(cleanups: Array<() => unknown>, options: AedesOptions = {}): Promise<AedesUpstream> {
    const broker = await AedesUpstream.start(options);
    cleanups.push(() => broker.close());
    return broker;
  }

  static async start(options: AedesOptions = {}, transport: TransportOptions = {}): Promise<AedesUpstream> {
    let self: AedesUpstream | undefined;
    const broker = await Aedes.createBroker({
      ...options,
      authorizePublish: (_client, packet, cb) => {
        if (self?.hold === true) {
          self.held.push(() => cb(null));
          self.maxHeld = Math.max(self.maxHeld, self.held.length);
        } else cb(null);
      },
      published: (packet, client, cb) => {
        if (client !== null && client !== undefined && !packet.topic.startsWith('$SYS')) self?.record(packet as PublishPacket);
        cb(null);
      },
    });
    self = new AedesUpstream(broker);
    self.transport = transport;
    const me = self;
    broker.on('client', (client) => me.connects.push({ id: client.id, clean: (client as unknown as { clean: boolean }).clean }));
    broker.on('subscribe', (subs) => {
      for (const sub of subs) me.subscribed.add(sub.topic);
    });
    await self.listen(0);
    return self;
  }

  get url(): string {
    const scheme = { tcp: 'mqtt', tls: 'mqtts', ws: 'ws', wss: 'wss' }[this.transport.transport ?? 'tcp'];
    const path = this.transport.transport === 'ws' || this.transport.transport === 'wss' ? '/mqtt' : '';
    return `${scheme}://127.0.0.1:${this.port}${path}`;
  }

  get heldCount(): number {
    return this.held.length;
  }

  release(): void {
    const held = this.held;
    this.held = [];
    for (const r of held) r();
  }

  private record(packet: PublishPacket): void {
    const payload = Buffer.from(packet.payload as Buffer);
    const userProperties = (packet as { properties?: { userProperties?: Record<string, string | string[]> } }).properties?.userProperties;
    this.received.push({ topic: packet.topic, payload, qos: packet.qos, key: extractDedupKey({ payload, userProperties }), index: this.received.length });
    this.waiters = this.waiters.filter((w) => {
      if (this.received.length >= w.n) {
        w.resolve();
        return false;
      }
      return true;
    });
  }

  /** Resolves once at least `n` PUBLISHes have arrived in total. */
  waitFor(n: number, timeoutMs = 10_000): Promise<void> {
    if (this.received.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${n} messages, have ${this.received.length}`)), timeoutMs);
      this.waiters.push({ n, resolve: () => { clearTimeout(t); resolve(); } });
    });
  }

  async listen(port: number): Promise<void> {
    const track = (socket: Socket): void => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    };
    const kind = this.transport.transport ?? 'tcp';
    const t = this.transport.tls;
    const tlsOptions = t === undefined ? {} : { key: t.key, cert: t.cert, ...(t.ca !== undefined ? { ca: t.ca } : {}), requestCert: t.requestCert === true, rejectUnauthorized: t.requestCert === true };
    let server: net.Server;
    if (kind === 'tcp') {
      server = net.createServer((socket) => {
        track(socket);
        this.broker.handle(wholeReads(socket));
      });
    } else if (kind === 'tls') {
      server = tls.createServer(tlsOptions, (socket) => {
        track(socket);
        this.broker.handle(wholeReads(socket as unknown as Duplex));
      });
    } else {
      const web = kind === 'ws' ? http.createServer() : https.createServer(tlsOptions);
      web.on('connection', track);
      const wss = new WebSocketServer({ server: web });
      server = web;
      wss.on('connection', (ws, req) => this.broker.handle(wholeReads(createWebSocketStream(ws)), req));
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  /** The outage: no new connections, every open one cut. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.release();
    for (const s of this.sockets) s.destroy();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async restart(): Promise<void> {
    await this.listen(this.port);
  }

  async close(): Promise<void> {
    await this.stop();
    await new Promise<void>((resolve) => this.broker.close(() => resolve()));
  }
}

/**
 * aedes 1.2 reads its connection once per 'readable' with read(null) and reads again only after
 * a whole packet was handled. Node 26's read() returns one buffered chunk, not all of them
 * (nodejs/node#60441, "readable read one buffer at a time"): over ws:// every WebSocket
 * message is a chunk, mqtt.js sends a CONNECT as 9 of them, and aedes got its first byte and
 * stalled, never answering CONNACK. The peer's bug, not fieldgate's; read() here hands over
 * every buffered byte, as on Node 20.
 */
function wholeReads<T extends Duplex>(stream: T): T {
  const read = stream.read.bind(stream);
  stream.read = (size?: number) => read(size ?? (stream.readableLength > 0 ? stream.readableLength : undefined));
  return stream;
}
