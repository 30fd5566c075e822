// What one connection sends: packets encoded into the tick's output (out-batch.ts), the
// client's limits on what it accepts, and the bound on what a client that stops reading can
// make us hold. connection.ts owns the socket's life; this owns its outgoing bytes.
import type { Duplex } from 'node:stream';
import mqtt from 'mqtt-packet';
import type { Packet } from 'mqtt-packet';
import type { BrokerCore } from './core.js';
import type { Delivery } from './types.js';
import { toPublishPacket } from './publish-packet.js';
import { encodePublishFast, publishFrameSize, writeAck, writePublishFrame, writeShortAck } from './codec.js';
import { OutBatch } from './out-batch.js';

/** What the writer reads of its connection when it encodes (they change at CONNECT). */
export interface WriterPeer {
  readonly clientId: string;
  readonly protocolVersion: 3 | 4 | 5;
  readonly clientMaxPacketSize: number;
}

/** What one stream write costs beyond its bytes (the stream's entry, callback); one per tick now. */
const WRITE_OVERHEAD = 96;

export class PacketWriter {
  /** Everything sent during this tick leaves in one write at its end (one syscall, writev-free). */
  private readonly out = new OutBatch((chunk) => this.writeChunk(chunk));
  private writesInFlight = 0;
  /**
   * Counts gathered per tick written, then added to the registry once: a counter update per
   * message boxed a number on the heap each time (issue 15).
   */
  private publishesOut = 0;
  private bytesOut = 0;
  private readonly written = (): void => {
    this.writesInFlight--;
  };

  constructor(
    private readonly core: BrokerCore,
    private readonly stream: Duplex,
    private readonly peer: WriterPeer,
    /** The client stopped reading: the connection closes it. */
    private readonly onOverflow: () => void,
  ) {}

  private get isV5(): boolean {
    return this.peer.protocolVersion === 5;
  }

  write(packet: Packet): boolean {
    if (writeShortAck(packet, this.out)) {
      this.sent(4);
      return true;
    }
    let buf: Buffer;
    try {
      buf = mqtt.generate(packet, { protocolVersion: this.peer.protocolVersion });
    } catch (err) {
      this.core.logger.error({ clientId: this.peer.clientId, cmd: packet.cmd, err }, 'could not encode a packet');
      return false;
    }
    this.out.append(buf);
    this.sent(buf.length);
    return true;
  }

  /** A successful PUBACK (QoS 1) or PUBREC (QoS 2) without properties, with no packet object. */
  ackPublish(qos: 1 | 2, id: number): void {
    writeAck(this.out, qos === 1 ? 0x40 : 0x50, id);
    this.sent(4);
  }

  sendPublish(delivery: Delivery, packetId: number | undefined, dup: boolean): boolean {
    if (delivery.qos === 0 && this.unsentBytes() > this.core.limits.maxWriteBuffer / 2) {
      this.core.metrics.dropped.inc({ reason: 'slow-subscriber' });
      return false;
    }
    const fast = this.writePublishFast(delivery, packetId, dup);
    if (fast !== undefined) return fast;
    const packet = toPublishPacket(delivery, packetId, dup, this.isV5, this.core.clock.now());
    let buf: Buffer;
    try {
      buf = encodePublishFast(packet, this.peer.protocolVersion) ?? mqtt.generate(packet, { protocolVersion: this.peer.protocolVersion });
    } catch (err) {
      this.core.logger.error({ clientId: this.peer.clientId, topic: delivery.message.topic, err }, 'could not encode a PUBLISH');
      return false;
    }
    // The client's Maximum Packet Size: discard as if delivered [MQTT-3.1.2-25].
    if (buf.length > this.peer.clientMaxPacketSize) {
      this.core.metrics.dropped.inc({ reason: 'client-max-packet-size' });
      return false;
    }
    this.publishesOut++;
    this.out.append(buf);
    this.sent(buf.length);
    return true;
  }

  /**
   * A PUBLISH with nothing MQTT 5 to add (no properties, expiry or subscription ids), encoded
   * straight into the tick's output: no packet object, no Buffer of its own (issue 15).
   * Undefined when it needs the general path; false when too large for the client.
   */
  private writePublishFast(d: Delivery, packetId: number | undefined, dup: boolean): boolean | undefined {
    const m = d.message;
    if (this.isV5 && (m.properties !== undefined || m.expiresAt !== undefined || (d.subscriptionIds !== undefined && d.subscriptionIds.length > 0))) return undefined;
    const size = publishFrameSize(m.topic, m.payload.length, d.qos, this.peer.protocolVersion);
    if (size === undefined) return undefined;
    // The client's Maximum Packet Size: discard as if delivered [MQTT-3.1.2-25].
    if (size > this.peer.clientMaxPacketSize) {
      this.core.metrics.dropped.inc({ reason: 'client-max-packet-size' });
      return false;
    }
    const buf = this.out.reserve(size);
    writePublishFrame(buf, this.out.length, m.topic, m.payload, d.qos, dup, d.retain, packetId ?? 0, this.peer.protocolVersion);
    this.out.commit(size);
    this.publishesOut++;
    this.sent(size);
    return true;
  }

  /** Bytes gathered or written but not yet taken by the kernel, plus what each pending write costs us. */
  unsentBytes(): number {
    return this.stream.writableLength + this.out.length + this.writesInFlight * WRITE_OVERHEAD;
  }

  /** Writes what this tick gathered now (before the socket ends). */
  flushNow(): void {
    this.out.flushNow();
  }

  /** Forgets what this tick gathered (the socket is being destroyed). */
  discard(): void {
    this.out.discard();
  }

  /** `bytes` more were added to this tick's output. */
  private sent(bytes: number): void {
    this.bytesOut += bytes;
    // Whatever the packet (PUBLISH, an ack, PINGRESP, SUBACK...): a client that does not read
    // cannot make us buffer without bound (issue 18 item 2).
    if (this.unsentBytes() > this.core.limits.maxWriteBuffer) this.onOverflow();
  }

  /** Returns whether the stream is done with `chunk` (nothing left buffered: the kernel took it). */
  private writeChunk(chunk: Buffer): boolean {
    if (this.bytesOut > 0) this.core.metrics.bytesOut.inc(undefined, this.bytesOut);
    this.bytesOut = 0;
    if (this.publishesOut > 0) this.core.metrics.messagesOut.inc(undefined, this.publishesOut);
    this.publishesOut = 0;
    if (this.stream.destroyed) return false;
    this.writesInFlight++;
    this.stream.write(chunk, this.written);
    return this.stream.writableLength === 0;
  }
}
