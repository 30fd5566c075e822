// The host's own MQTT client (issue 14, "≥ 0.5× raw inserts"): mqtt.js spent ~0.2 µs a sample
// on its per-packet machinery (a nextTick, a handler chain and closures per PUBLISH, a packet
// object and several stream writes per PUBACK). This does only what the host needs, over
// net/tls/ws: MQTT 3.1.1 and 5, username/password, a Will, keepalive, reconnect with backoff,
// QoS 1 in both directions, SUBSCRIBE, and input bounded by `maxPacketSize` (the broker's
// splitter refuses a bigger frame from its fixed header, before its body is buffered).
// Incoming PUBLISH frames are read here directly (user properties carry the fg dedup key);
// every other packet goes through mqtt-packet, the reference parser and generator.
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import mqttPacket, { type Packet } from 'mqtt-packet';
import WebSocket, { createWebSocketStream } from 'ws';
import { backoffDelay } from '../bridge/backoff.js';
import { FrameSplitter, readPublish, writePublish, type UserProperties } from './mqtt-frames.js';

export interface LinkOptions {
  url: string;
  protocolVersion: 4 | 5;
  clientId: string;
  username?: string | undefined;
  password?: string | undefined;
  tls?: { ca?: Buffer | undefined; cert?: Buffer | undefined; key?: Buffer | undefined; rejectUnauthorized: boolean; servername?: string | undefined } | undefined;
  keepaliveSec: number;
  clean: boolean;
  /** MQTT 5 Session Expiry Interval. */
  sessionExpirySec: number;
  connectTimeoutMs: number;
  maxPacketSize: number;
  /** Read at every connect: the Will of that connection. */
  will(): { topic: string; payload: Buffer; qos: 0 | 1; retain: boolean };
}

export type { UserProperties };

export interface LinkEvents {
  connect(sessionPresent: boolean): void;
  /** `messageId` is set for QoS 1: acknowledge it with `ack()` (possibly later). */
  message(topic: string, payload: Buffer, userProperties: UserProperties | undefined, messageId: number | undefined): void;
  /** The connection is gone (after a `connect`); a reconnect is scheduled unless stopped. */
  close(): void;
  /** A failure worth a log line: `code` is an FG_ERR_ code; never carries a secret. */
  error(code: string, message: string): void;
}

const RECONNECT = { minMs: 500, maxMs: 10_000, jitter: 0.3 };

export class MqttLink {
  private sock: Duplex | undefined;
  private framer!: FrameSplitter;
  private parser!: ReturnType<typeof mqttPacket.parser>;
  private up = false;
  private stopped = false;
  private attempt = 0;
  private nextId = 1;
  private pingOutstanding = false;
  private timers: { reconnect?: NodeJS.Timeout; keepalive?: NodeJS.Timeout; connect?: NodeJS.Timeout } = {};
  /** Our own SUBSCRIBE and QoS 1 PUBLISH waiting for their ack, by packet id. */
  private readonly waiting = new Map<number, { resolve(): void; reject(e: Error): void }>();
  /** Counts connections: an ack held across a reconnect must not be sent on the new one. */
  generation = 0;

  constructor(
    private readonly o: LinkOptions,
    private readonly events: LinkEvents,
  ) {
    this.open();
  }

  get connected(): boolean {
    return this.up;
  }

  private open(): void {
    this.timers.reconnect = undefined;
    if (this.stopped) return;
    const u = new URL(this.o.url);
    const port = Number(u.port) || { 'mqtt:': 1883, 'mqtts:': 8883, 'ws:': 80, 'wss:': 443 }[u.protocol] || 1883;
    const host = u.hostname.replace(/^\[|\]$/g, '');
    let sock: Duplex;
    if (u.protocol === 'ws:' || u.protocol === 'wss:') {
      const t = this.o.tls;
      // ws hands these to https.request, hence to tls.connect (which takes `servername`).
      const opts = t === undefined ? {} : { ca: t.ca, cert: t.cert, key: t.key, rejectUnauthorized: t.rejectUnauthorized, servername: t.servername };
      sock = createWebSocketStream(new WebSocket(this.o.url, 'mqtt', opts as WebSocket.ClientOptions));
    } else if (u.protocol === 'mqtts:') {
      const t = this.o.tls;
      sock = tls.connect({ host, port, ca: t?.ca, cert: t?.cert, key: t?.key, rejectUnauthorized: t?.rejectUnauthorized ?? true, servername: t?.servername ?? (net.isIP(host) === 0 ? host : undefined) });
    } else {
      sock = net.connect({ host, port });
    }
    // Nagle held each small PUBACK and confirmation until the broker's delayed ACK (up to 40 ms).
    (sock as net.Socket).setNoDelay?.(true);
    this.sock = sock;
    this.framer = new FrameSplitter(this.o.maxPacketSize);
    this.parser = mqttPacket.parser({ protocolVersion: this.o.protocolVersion });
    this.parser.on('packet', (p: Packet) => this.onPacket(p));
    this.parser.on('error', (e: Error) => this.fail('FG_ERR_UPSTREAM_PROTOCOL', `malformed packet from the broker: ${e.message}`));
    sock.on('data', (chunk: Buffer) => {
      if (this.sock !== sock) return;
      const err = this.framer.push(chunk, this.onFrame);
      if (err !== undefined) this.fail('FG_ERR_UPSTREAM_PROTOCOL', err === 'too-large' ? `a packet from the broker exceeds ${this.o.maxPacketSize} bytes` : 'malformed packet length from the broker');
    });
    sock.on('error', (e: Error) => this.events.error(e.message.includes('certificate') ? 'FG_ERR_UPSTREAM_TLS' : 'FG_ERR_UPSTREAM_CONNECT', e.message));
    sock.on('close', () => this.closed(sock));
    this.timers.connect = setTimeout(() => this.fail('FG_ERR_UPSTREAM_CONNECT', `no CONNACK within ${this.o.connectTimeoutMs} ms`), this.o.connectTimeoutMs);
    const will = this.o.will();
    const v5 = this.o.protocolVersion === 5;
    const connect: Packet = {
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: this.o.protocolVersion,
      clientId: this.o.clientId,
      clean: this.o.clean,
      keepalive: this.o.keepaliveSec,
      will: { topic: will.topic, payload: will.payload, qos: will.qos, retain: will.retain },
      ...(v5 ? { properties: { sessionExpiryInterval: this.o.sessionExpirySec, maximumPacketSize: this.o.maxPacketSize } } : {}),
      ...(this.o.username !== undefined ? { username: this.o.username } : {}),
      ...(this.o.password !== undefined ? { password: Buffer.from(this.o.password) } : {}),
    };
    sock.write(mqttPacket.generate(connect, { protocolVersion: this.o.protocolVersion }));
  }

  private readonly onFrame = (frame: Buffer): boolean => {
    if (this.sock === undefined) return false;
    const b0 = frame[0] as number;
    // The PUBACK of our QoS 1 publish (a confirmation; on MQTT 5 with a reason code, e.g. 0x10
    // "no matching subscribers"): about one a message at full rate.
    if (b0 === 0x40 && (frame.length === 4 || frame.length === 5)) this.settle(frame.readUInt16BE(2), frame[4] ?? 0);
    else {
      const p = b0 >> 4 === 3 ? readPublish(frame, this.o.protocolVersion) : undefined;
      if (p !== undefined) this.events.message(p.topic, p.payload, p.userProperties, p.messageId);
      else this.parser.parse(frame);
    }
    return this.sock !== undefined;
  };

  private onPacket(p: Packet): void {
    switch (p.cmd) {
      case 'connack': {
        clearTimeout(this.timers.connect);
        const code = (p.reasonCode ?? p.returnCode ?? 0) as number;
        if (code !== 0) {
          this.fail('FG_ERR_UPSTREAM_CONNECT', `the broker refused the connection (code ${code})`);
          return;
        }
        this.up = true;
        this.attempt = 0;
        this.generation += 1;
        this.pingOutstanding = false;
        const ms = this.o.keepaliveSec * 1000;
        // A PINGREQ every keep alive period, and the connection is dead when the previous one
        // got no answer by the next tick [MQTT-3.1.2-24 is the broker's side of the same rule].
        if (ms > 0) this.timers.keepalive = setInterval(() => this.keepalive(), ms).unref();
        this.events.connect(p.sessionPresent === true);
        return;
      }
      case 'publish':
        if (p.qos === 2) this.fail('FG_ERR_UPSTREAM_PROTOCOL', 'the broker sent QoS 2 on a QoS 1 subscription');
        else this.events.message(p.topic, Buffer.isBuffer(p.payload) ? p.payload : Buffer.from(p.payload), p.properties?.userProperties, p.qos === 1 ? p.messageId : undefined);
        return;
      case 'puback':
        if (p.messageId !== undefined) this.settle(p.messageId, p.reasonCode ?? 0);
        return;
      case 'suback':
        if (p.messageId !== undefined) this.settle(p.messageId, Math.max(...p.granted.map((g) => (typeof g === 'number' ? g : ((g as { qos?: number }).qos ?? 0x80)))));
        return;
      case 'pingresp':
        this.pingOutstanding = false;
        return;
      case 'disconnect':
        this.events.error('FG_ERR_UPSTREAM_CONNECT', `the broker ended the session (reason ${p.reasonCode ?? 0})`);
        return;
      default:
        return;
    }
  }

  /** The ack of our packet `id`: a code ≥ 0x80 is a refusal [MQTT 5.0 §2.4]. */
  private settle(id: number, code: number): void {
    const w = this.waiting.get(id);
    if (w === undefined) return;
    this.waiting.delete(id);
    if (code < 0x80) w.resolve();
    else w.reject(new Error(`the broker refused packet ${id} (code ${code})`));
  }

  private keepalive(): void {
    if (this.pingOutstanding) {
      this.fail('FG_ERR_UPSTREAM_TIMEOUT', 'no PINGRESP within the keep alive period');
      return;
    }
    this.pingOutstanding = true;
    this.sock?.write(mqttPacket.generate({ cmd: 'pingreq' }));
  }

  /** Ends this connection after a failure; `closed()` schedules the reconnect. */
  private fail(code: string, message: string): void {
    this.events.error(code, message);
    this.sock?.destroy();
  }

  private closed(sock: Duplex): void {
    if (this.sock !== sock) return;
    this.sock = undefined;
    clearTimeout(this.timers.connect);
    clearInterval(this.timers.keepalive);
    const lost = new Error('connection to the broker lost');
    for (const w of this.waiting.values()) w.reject(lost);
    this.waiting.clear();
    const wasUp = this.up;
    this.up = false;
    if (wasUp) this.events.close();
    if (this.stopped) return;
    this.timers.reconnect = setTimeout(() => this.open(), backoffDelay(this.attempt++, RECONNECT));
  }

  private id(): number {
    // Our ids: 1..65535, skipping any still waiting (a slow broker and a long run).
    do this.nextId = (this.nextId % 65535) + 1;
    while (this.waiting.has(this.nextId));
    return this.nextId;
  }

  private request(packet: Packet & { messageId?: number }, bytes?: Buffer): Promise<void> {
    const sock = this.sock;
    if (sock === undefined || !this.up) return Promise.reject(new Error('not connected to the broker'));
    const id = packet.messageId as number;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      sock.write(bytes ?? mqttPacket.generate(packet, { protocolVersion: this.o.protocolVersion }));
    });
  }

  subscribe(filters: readonly string[]): Promise<void> {
    return this.request({ cmd: 'subscribe', messageId: this.id(), subscriptions: filters.map((topic) => ({ topic, qos: 1 as const })) });
  }

  /** QoS 0 resolves once written; QoS 1 when the broker's PUBACK arrives. */
  publish(topic: string, payload: Buffer, qos: 0 | 1, retain: boolean): Promise<void> {
    const p = { cmd: 'publish' as const, topic, payload, qos, retain, dup: false, ...(qos === 1 ? { messageId: this.id() } : {}) };
    const bytes = writePublish(topic, payload, qos, retain, p.messageId ?? 0, this.o.protocolVersion) ?? mqttPacket.generate(p, { protocolVersion: this.o.protocolVersion });
    if (qos === 1) return this.request(p, bytes);
    if (this.sock === undefined || !this.up) return Promise.reject(new Error('not connected to the broker'));
    this.sock.write(bytes);
    return Promise.resolve();
  }

  /**
   * PUBACKs for QoS 1 messages of connection `generation`, in one write (4 bytes each: a
   * success needs no reason code on MQTT 5 [MQTT-3.4.2-1]); acks of an earlier connection are
   * void, the broker redelivers those messages.
   */
  ack(generation: number, messageIds: readonly number[]): void {
    if (generation !== this.generation || this.sock === undefined || !this.up || messageIds.length === 0) return;
    const out = Buffer.allocUnsafe(4 * messageIds.length);
    for (let i = 0; i < messageIds.length; i++) {
      out[4 * i] = 0x40;
      out[4 * i + 1] = 2;
      out.writeUInt16BE(messageIds[i] as number, 4 * i + 2);
    }
    this.sock.write(out);
  }

  /** Runs `fn` with the socket corked: what it writes (acks, confirmations) goes out in one write. */
  corked(fn: () => void): void {
    const sock = this.sock;
    sock?.cork();
    try {
      fn();
    } finally {
      sock?.uncork();
    }
  }

  /** A clean DISCONNECT (the Will is not published), then no reconnect. */
  async end(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timers.reconnect);
    const sock = this.sock;
    if (sock === undefined) return;
    await new Promise<void>((resolve) => {
      sock.once('close', () => resolve());
      if (this.up) sock.end(mqttPacket.generate({ cmd: 'disconnect' }, { protocolVersion: this.o.protocolVersion }));
      else sock.destroy();
      setTimeout(() => sock.destroy(), 1000).unref();
    });
  }
}
