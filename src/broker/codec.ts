// Fast paths for the packets that dominate a busy broker: PUBLISH without properties and the
// two-byte acks. Anything else, or anything unusual, returns undefined and goes through
// mqtt-packet, which remains the reference for validation. Measured in bench/: mqtt-packet's
// generic parser and generator cost more than the rest of the PUBLISH path together.
import type { IPublishPacket, Packet } from 'mqtt-packet';
import type { OutBatch } from './out-batch.js';
import { MAX_VARIABLE_BYTE_INTEGER, variableByteIntegerLength, writeVariableByteInteger } from '../mqtt/variable-byte-integer.js';

const ACKS: Record<number, { cmd: 'puback' | 'pubrec' | 'pubrel' | 'pubcomp'; flags: number }> = {
  4: { cmd: 'puback', flags: 0 },
  5: { cmd: 'pubrec', flags: 0 },
  6: { cmd: 'pubrel', flags: 2 }, // PUBREL's reserved flags are 0010 [MQTT-3.6.1-1]
  7: { cmd: 'pubcomp', flags: 0 },
};

/** Decodes a whole frame, or returns undefined to let mqtt-packet decide. */
export function decodeFast(frame: Buffer, protocolVersion: number, topics?: TopicReuse): Packet | undefined {
  return decodeFastAt(frame, 0, frame.length, protocolVersion, topics);
}

/**
 * decodeFast for the frame at buf[start, end), so the framer need not make a Buffer view per
 * packet (issue 15: one object less per message under a flood).
 */
export function decodeFastAt(buf: Buffer, start: number, end: number, protocolVersion: number, topics?: TopicReuse): Packet | undefined {
  const b0 = buf[start] as number;
  const type = b0 >> 4;
  // Remaining Length (1-4 bytes); the framer has already checked it matches the frame.
  let h = start + 1;
  while (((buf[h] as number) & 0x80) !== 0) h++;
  h++;
  const remaining = end - h;
  if (type === 3) return decodePublish(buf, end, b0, h, protocolVersion, topics);
  const ack = ACKS[type];
  if (ack !== undefined) {
    if ((b0 & 0x0f) !== ack.flags || remaining !== 2) return undefined;
    return { cmd: ack.cmd, messageId: readU16(buf, h) };
  }
  if (b0 === 0xc0 && remaining === 0) return { cmd: 'pingreq' };
  return undefined;
}

/** Without Buffer#readUInt16BE's bounds checks: callers have checked the length already. */
function readU16(buf: Buffer, at: number): number {
  return ((buf[at] as number) << 8) | (buf[at + 1] as number);
}

function decodePublish(buf: Buffer, end: number, b0: number, h: number, protocolVersion: number, topics: TopicReuse | undefined): IPublishPacket | undefined {
  const qos = (b0 >> 1) & 3;
  if (qos === 3) return undefined; // malformed [MQTT-3.3.1-4]: mqtt-packet reports it
  if (end < h + 2) return undefined;
  const topicLength = readU16(buf, h);
  let pos = h + 2 + topicLength;
  if (pos > end) return undefined;
  const topic = topics === undefined ? buf.toString('utf8', h + 2, pos) : topics.read(buf, h + 2, pos);
  let messageId: number | undefined;
  if (qos > 0) {
    if (pos + 2 > end) return undefined;
    messageId = readU16(buf, pos);
    pos += 2;
  }
  if (protocolVersion === 5) {
    if (pos >= end || buf[pos] !== 0) return undefined; // properties present: mqtt-packet
    pos += 1;
  }
  const retain = (b0 & 0x01) !== 0;
  const packet: IPublishPacket = {
    cmd: 'publish',
    topic,
    // QoS 1/2 or retained: a copy, so a queued, in-flight or retained message does not pin the
    // whole socket chunk in memory. QoS 0 not retained is never stored (sent on or dropped at
    // once; core.ts copies it for in-process subscribers), so it stays a view (issue 15).
    payload: qos === 0 && !retain ? buf.subarray(pos, end) : copyOut(buf, pos, end),
    qos: qos as 0 | 1 | 2,
    dup: (b0 & 0x08) !== 0,
    retain,
  };
  if (messageId !== undefined) packet.messageId = messageId;
  return packet;
}

/**
 * Payload copies come from slabs of their own: in Node's shared Buffer pool (64 KiB slabs on
 * Node 26) they sat between short-lived buffers, and a few queued messages kept many 64 KiB
 * slabs alive (measured under the bench load: 32 of them). Here slabs fill in arrival order
 * and go when the messages in them are delivered (issue 15).
 */
export const PAYLOAD_SLAB_BYTES = 16 * 1024;
const SLAB_MAX_COPY = 1024;
let slab = Buffer.allocUnsafeSlow(0);
let slabUsed = 0;

/** A copy of a payload someone may keep, from the same slabs. */
export function copyPayload(payload: Buffer): Buffer {
  return copyOut(payload, 0, payload.length);
}

function copyOut(buf: Buffer, from: number, end: number): Buffer {
  const n = end - from;
  if (n > SLAB_MAX_COPY) {
    const out = Buffer.allocUnsafeSlow(n);
    buf.copy(out, 0, from, end);
    return out;
  }
  if (slabUsed + n > slab.length) {
    slab = Buffer.allocUnsafeSlow(PAYLOAD_SLAB_BYTES);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + n);
  buf.copy(out, 0, from, end);
  // 8-byte aligned, as Node's pool does, for anyone reading the payload through a typed array.
  slabUsed = (slabUsed + n + 7) & ~7;
  return out;
}

/** Longest topic worth remembering: a publisher's topics are short and mostly the same. */
const REUSE_MAX_BYTES = 256;

/**
 * The string of the topic this connection published to last, reused when the next PUBLISH
 * names the same bytes: a sensor stream publishes to a few topics, and a fresh string per
 * message was garbage V8 had to promote and collect under a flood (issue 15).
 */
export class TopicReuse {
  private bytes: Buffer | undefined;
  private topic = '';

  read(frame: Buffer, start: number, end: number): string {
    const n = end - start;
    const last = this.bytes;
    if (last !== undefined && last.length === n && sameBytes(frame, start, last, n)) return this.topic;
    const topic = frame.toString('utf8', start, end);
    if (n <= REUSE_MAX_BYTES) {
      // Its own small allocation: a slice of Node's shared pool would pin 8 KiB per connection.
      this.bytes = Buffer.allocUnsafeSlow(n);
      frame.copy(this.bytes, 0, start, end);
      this.topic = topic;
    }
    return topic;
  }
}

/** A byte loop: Buffer#compare with offsets allocates in its argument checks (measured, issue 15). */
function sameBytes(buf: Buffer, start: number, other: Buffer, n: number): boolean {
  for (let i = 0; i < n; i++) if (buf[start + i] !== other[i]) return false;
  return true;
}

/** Encodes a PUBLISH that carries no properties; undefined when it has some. */
export function encodePublishFast(p: IPublishPacket, protocolVersion: number): Buffer | undefined {
  if (p.properties !== undefined) return undefined;
  const payload = typeof p.payload === 'string' ? Buffer.from(p.payload) : p.payload;
  const size = publishFrameSize(p.topic, payload.length, p.qos, protocolVersion);
  if (size === undefined) return undefined;
  const out = Buffer.allocUnsafe(size);
  writePublishFrame(out, 0, p.topic, payload, p.qos, p.dup, p.retain, p.messageId ?? 0, protocolVersion);
  return out;
}

/** Whole size of a property-less PUBLISH frame, or undefined when it cannot be encoded. */
export function publishFrameSize(topic: string, payloadLength: number, qos: number, protocolVersion: number): number | undefined {
  const remaining = 2 + Buffer.byteLength(topic) + (qos > 0 ? 2 : 0) + (protocolVersion === 5 ? 1 : 0) + payloadLength;
  if (remaining > MAX_VARIABLE_BYTE_INTEGER) return undefined;
  return 1 + variableByteIntegerLength(remaining) + remaining;
}

/**
 * Writes a property-less PUBLISH of `size` bytes (publishFrameSize) at `at` in `out`: the
 * connection encodes straight into its per-tick output buffer, no Buffer per packet (issue 15).
 */
export function writePublishFrame(out: Buffer, at: number, topic: string, payload: Buffer, qos: number, dup: boolean, retain: boolean, messageId: number, protocolVersion: number): number {
  const topicLength = Buffer.byteLength(topic);
  const remaining = 2 + topicLength + (qos > 0 ? 2 : 0) + (protocolVersion === 5 ? 1 : 0) + payload.length;
  out[at] = 0x30 | (dup ? 0x08 : 0) | (qos << 1) | (retain ? 1 : 0);
  // Byte stores rather than writeUInt16BE / write(): their argument checks allocate (issue 15).
  let pos = writeVariableByteInteger(out, at + 1, remaining);
  out[pos++] = topicLength >> 8;
  out[pos++] = topicLength & 0xff;
  if (topicLength === topic.length) {
    for (let i = 0; i < topicLength; i++) out[pos + i] = topic.charCodeAt(i); // ASCII: one byte per char
    pos += topicLength;
  } else {
    pos += out.write(topic, pos, 'utf8');
  }
  if (qos > 0) {
    out[pos++] = messageId >> 8;
    out[pos++] = messageId & 0xff;
  }
  if (protocolVersion === 5) out[pos++] = 0;
  return pos + payload.copy(out, pos);
}

const ACK_TYPES: Partial<Record<Packet['cmd'], number>> = { puback: 0x40, pubrec: 0x50, pubrel: 0x62, pubcomp: 0x70 };

/**
 * A successful ack without properties in its two-byte form, which MQTT 5 allows (§3.4.2.1) and
 * older MQTT 5 clients (paho 1.6) require; mqtt-packet always adds the reason code byte.
 * Written straight into the tick's output; false when the packet needs mqtt-packet.
 */
export function writeShortAck(packet: Packet, out: OutBatch): boolean {
  const first = ACK_TYPES[packet.cmd];
  if (first === undefined) return false;
  const p = packet as { messageId?: number; reasonCode?: number; properties?: unknown };
  if ((p.reasonCode !== undefined && p.reasonCode !== 0) || p.properties !== undefined || p.messageId === undefined) return false;
  writeAck(out, first, p.messageId);
  return true;
}

/** A two-byte-form ack (first byte `first`: 0x40 PUBACK, 0x50 PUBREC...) for packet `id`. */
export function writeAck(out: OutBatch, first: number, id: number): void {
  const buf = out.reserve(4);
  const at = out.length;
  buf[at] = first;
  buf[at + 1] = 2;
  buf[at + 2] = id >> 8;
  buf[at + 3] = id & 0xff;
  out.commit(4);
}
