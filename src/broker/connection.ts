// One network connection: framing, parsing, keep alive, and closing it without touching any
// other client. Packet semantics live in handlers/ behind dispatcher.ts; when reading pauses
// and resumes, in read-gate.ts; what it sends, in packet-writer.ts.
import type { Duplex } from 'node:stream';
import mqtt from 'mqtt-packet';
import type { Packet } from 'mqtt-packet';
import type { TimerHandle } from '../shared/clock.js';
import type { BrokerCore } from './core.js';
import { dispatch } from './dispatcher.js';
import { Framer } from './framer.js';
import { RC } from './reason-codes.js';
import type { Session, SessionLink } from './session.js';
import type { Delivery, Message } from './types.js';
import { decodeFastAt, TopicReuse } from './codec.js';
import { PacketWriter } from './packet-writer.js';
import { ReadGate } from './read-gate.js';
import { checkPublishProperties } from './property-check.js';

export interface ConnectionInfo {
  remoteAddress: string;
  listener: string;
  allowAnonymous: boolean;
  /** Subject CN of a verified TLS client certificate, used as the identity when configured. */
  certIdentity?: string | undefined;
  /** CONNECT accepted: the socket leaves the pending caps (socket-gate.ts). */
  onConnected?: () => void;
}

export interface Will {
  message: Message;
  /** Seconds (MQTT 5 Will Delay Interval). */
  delay: number;
}

type ProtocolVersion = 3 | 4 | 5;
export type CloseLogLevel = 'debug' | 'warn';

// mqtt-packet builds a cache of 65,536 two-byte Buffers on its first generate() call unless
// told not to: 6.5 MiB of live old-space objects that every major GC then marks, the largest
// single item of the broker's heap under load (issue 15). The fast paths write packet ids by
// hand anyway; this is process-wide (mqtt.js clients do the same with writeCache: false).
mqtt.writeToStream.cacheNumbers = false;

export class Connection implements SessionLink {
  protocolVersion: ProtocolVersion = 4;
  clientId = '';
  username: string | undefined;
  session: Session | undefined;
  will: Will | undefined;
  /** 'new' until CONNACK 0, then 'connected'; 'closed' once and for all. */
  state: 'new' | 'connected' | 'closed' = 'new';
  sendWindow: number;
  clientMaxPacketSize = Number.POSITIVE_INFINITY;
  /** Topic aliases the client set up, per connection [MQTT-3.3.2-10]. */
  readonly topicAliases = new Map<number, string>();
  readonly info: ConnectionInfo;
  private readonly framer: Framer;
  private readonly parser = mqtt.parser();
  private keepaliveMs = 0;
  private lastActivity: number;
  /** The CONNECT deadline until CONNECT, then keep alive supervision. */
  private keepaliveTimer: TimerHandle | undefined;
  private endTimer: TimerHandle | undefined;
  private readonly gate: ReadGate;
  /** What this connection sends, and the bound on what it holds unsent (packet-writer.ts). */
  private readonly writer: PacketWriter;
  private readonly topics = new TopicReuse();
  /** Counted per chunk read, added to the registry once (a per-message update boxed a number, issue 15). */
  private publishesIn = 0;
  private readonly frameCb = (buf: Buffer, start: number, end: number): boolean => this.onFrame(buf, start, end);

  constructor(readonly core: BrokerCore, readonly stream: Duplex, info: ConnectionInfo) {
    this.info = info;
    this.sendWindow = core.limits.maxInflight;
    this.framer = new Framer(core.limits.maxPacketSize);
    this.writer = new PacketWriter(core, stream, this, () => this.dropSlowClient());
    this.lastActivity = core.clock.monotonic();
    this.gate = new ReadGate({
      stream, clock: core.clock, limits: core.limits, metrics: core.metrics,
      isClosed: () => this.isClosed(),
      readBuffered: () => this.frameBuffered(Buffer.alloc(0)),
      suspendKeepalive: () => this.clearKeepalive(),
      resumeKeepalive: () => {
        if (this.keepaliveMs > 0) this.armKeepalive(this.keepaliveMs);
      },
    });
    this.parser.on('packet', (packet: Packet) => this.onPacket(packet));
    this.parser.on('error', (err: Error) => this.protocolViolation(RC.malformedPacket, err.message));
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('error', (err: Error) => this.close(`socket error: ${err.message}`, false));
    stream.on('close', () => this.close('socket closed', false));
    stream.on('end', () => this.close('client closed the connection', false));
    // A socket that never sends CONNECT is closed after connectTimeout [MQTT-3.1.4-1].
    this.keepaliveTimer = core.clock.setTimeout(() => {
      if (this.state === 'new') this.close('no CONNECT in time', false);
    }, core.limits.connectTimeout);
  }

  /** A method, not a comparison, so TypeScript does not narrow `state` across calls that close. */
  isClosed(): boolean {
    return this.state === 'closed';
  }

  get remoteAddress(): string {
    return this.info.remoteAddress;
  }

  get isV5(): boolean {
    return this.protocolVersion === 5;
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    this.lastActivity = this.core.clock.monotonic(); // any packet resets keep alive [MQTT-3.1.2-22]
    this.core.metrics.bytesIn.inc(undefined, chunk.length);
    if (!this.gate.isOpen()) {
      this.framer.hold(chunk);
      return;
    }
    this.frameBuffered(chunk);
  }

  private frameBuffered(chunk: Buffer): void {
    const err = this.framer.push(chunk, this.frameCb);
    if (this.publishesIn > 0) {
      this.core.metrics.messagesIn.inc(undefined, this.publishesIn);
      this.publishesIn = 0;
    }
    if (err === 'too-large') this.protocolViolation(RC.packetTooLarge, 'packet larger than the maximum packet size');
    else if (err === 'malformed-length') this.protocolViolation(RC.malformedPacket, 'malformed remaining length');
  }

  private onFrame(buf: Buffer, start: number, end: number): boolean {
    if (this.state === 'closed') return false;
    // The first packet must be CONNECT [MQTT-3.1.0-1].
    if (this.state === 'new' && (buf[start] as number) >> 4 !== 1) {
      this.close('first packet was not CONNECT', false, 'warn');
      return false;
    }
    if (this.state === 'connected') {
      const fast = decodeFastAt(buf, start, end, this.protocolVersion, this.topics);
      if (fast !== undefined) {
        this.onPacket(fast);
        return !this.isClosed() && this.gate.isOpen();
      }
    }
    const frame = buf.subarray(start, end);
    // MQTT 5 PUBLISH properties are checked byte for byte first: mqtt-packet would accept a
    // truncated or invalid block and the message would be stored undeliverable (issue 18).
    if (this.protocolVersion === 5 && (frame[0] as number) >> 4 === 3) {
      const bad = checkPublishProperties(frame);
      if (bad !== undefined) {
        this.protocolViolation(RC.malformedPacket, bad);
        return false;
      }
    }
    try {
      const left = this.parser.parse(frame);
      // A frame is exactly one packet; bytes left over mean the body contradicts its header.
      if (left !== 0 && !this.isClosed()) this.protocolViolation(RC.malformedPacket, 'packet body does not match its length');
    } catch (err) {
      this.protocolViolation(RC.malformedPacket, (err as Error).message);
    }
    return !this.isClosed() && this.gate.isOpen();
  }

  private onPacket(packet: Packet): void {
    if (this.state === 'closed') return;
    try {
      const pending = dispatch(this, packet);
      if (pending !== undefined) this.gate.waitFor(pending, (err) => this.protocolViolation(RC.unspecifiedError, err.message));
    } catch (err) {
      this.core.logger.error({ clientId: this.clientId, err }, 'broker handler failed; closing this connection');
      this.protocolViolation(RC.implementationSpecificError, 'internal error');
    }
  }

  /** Starts keep alive supervision: 1.5 times the negotiated interval [MQTT-3.1.2-24]. */
  startKeepalive(seconds: number): void {
    this.clearKeepalive();
    this.keepaliveMs = seconds * 1500;
    if (seconds > 0) this.armKeepalive(this.keepaliveMs);
  }

  private armKeepalive(ms: number): void {
    this.keepaliveTimer = this.core.clock.setTimeout(() => {
      this.keepaliveTimer = undefined;
      const idle = this.core.clock.monotonic() - this.lastActivity;
      if (idle >= this.keepaliveMs) this.disconnect(RC.keepAliveTimeout, 'keep alive timeout');
      else this.armKeepalive(this.keepaliveMs - idle);
    }, ms);
  }

  /** Stops reading this publisher until the congested subscribers drain (backpressure.ts). */
  waitForSubscribers(sessions: readonly Session[]): void {
    this.gate.waitForSubscribers(sessions);
  }

  /** Per-client publish rate: a fast publisher is paused, never dropped (issue 3 limits). */
  throttlePublish(): void {
    this.gate.throttlePublish();
  }

  /** Stops reading this client for `ms`; see ReadGate.pauseFor. */
  pauseFor(ms: number): void {
    this.gate.pauseFor(ms);
  }

  write(packet: Packet): boolean {
    if (this.state === 'closed') return false;
    return this.writer.write(packet);
  }

  /** A PUBLISH from this client is being handled (counted once per chunk read). */
  countPublishIn(): void {
    this.publishesIn++;
  }

  /** A successful PUBACK (QoS 1) or PUBREC (QoS 2) without properties, with no packet object. */
  ackPublish(qos: 1 | 2, id: number): void {
    if (this.state === 'closed') return;
    this.writer.ackPublish(qos, id);
  }

  unsentBytes(): number {
    return this.writer.unsentBytes();
  }

  private dropSlowClient(): void {
    this.core.metrics.slowClients.inc();
    this.close(`not reading: more than ${this.core.limits.maxWriteBuffer} unsent bytes`, false, 'warn');
    this.destroy();
  }

  sendPublish(delivery: Delivery, packetId: number | undefined, dup: boolean): boolean {
    if (this.state === 'closed') return false;
    return this.writer.sendPublish(delivery, packetId, dup);
  }

  sendPubrel(packetId: number): void {
    this.write({ cmd: 'pubrel', messageId: packetId });
  }

  /** A protocol error closes this connection only, with a reason code on MQTT 5 [MQTT-4.13.1-1]. */
  protocolViolation(reasonCode: number, reason: string): void {
    if (this.state === 'closed') return;
    this.core.metrics.protocolErrors.inc();
    this.disconnect(reasonCode, reason, 'warn');
  }

  /**
   * Server-side DISCONNECT: MQTT 5 clients get the reason code [MQTT-3.14.0-1] (only after
   * CONNACK [MQTT-3.2.0-2]); 3.1.1 clients just see the connection close.
   */
  disconnect(reasonCode: number, reason: string, level: CloseLogLevel = 'debug'): void {
    if (this.state === 'closed') return;
    if (this.isV5 && this.state === 'connected') {
      const properties = this.core.problemInfo(this) ? { reasonString: reason } : undefined;
      this.write({ cmd: 'disconnect', reasonCode, ...(properties ? { properties } : {}) });
    }
    this.close(reason, false, level, reasonCode);
  }

  /**
   * Idempotent. `graceful` = the client sent DISCONNECT (no will, except MQTT 5 reason 0x04).
   * Every close is logged once, with the client id and why: debug when normal, warn for a
   * protocol error or a limit (issue 12 item 5).
   */
  close(reason: string, graceful: boolean, level: CloseLogLevel = 'debug', reasonCode?: number): void {
    if (this.state === 'closed') return;
    const wasConnected = this.state === 'connected';
    this.state = 'closed';
    this.core.logger[level](
      { clientId: this.clientId === '' ? undefined : this.clientId, username: this.username, remote: this.remoteAddress, listener: this.info.listener, reason, ...(reasonCode !== undefined ? { reasonCode } : {}), graceful, connected: wasConnected },
      'broker connection closed',
    );
    this.clearKeepalive();
    this.gate.close();
    this.parser.removeAllListeners('packet');
    this.writer.flushNow();
    // end() flushes what was written (a DISCONNECT or CONNACK with a reason) before FIN; the
    // timer bounds how long a peer that stopped reading can hold the socket.
    this.stream.end();
    if (!this.stream.destroyed) {
      this.endTimer = this.core.clock.setTimeout(() => this.stream.destroy(), 1000);
      this.stream.once('close', () => {
        if (this.endTimer !== undefined) this.core.clock.clearTimeout(this.endTimer);
        this.endTimer = undefined;
      });
    }
    this.core.onConnectionClosed(this, wasConnected, graceful, reason);
  }

  /** Drops the socket now (broker shutdown); no timers remain. */
  destroy(): void {
    this.writer.discard();
    if (this.endTimer !== undefined) this.core.clock.clearTimeout(this.endTimer);
    this.endTimer = undefined;
    this.stream.destroy();
  }

  private clearKeepalive(): void {
    if (this.keepaliveTimer !== undefined) this.core.clock.clearTimeout(this.keepaliveTimer);
    this.keepaliveTimer = undefined;
  }
}
