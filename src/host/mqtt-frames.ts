// Bytes from the broker → whole MQTT packets, a PUBLISH's fields read straight off its frame,
// and the host's own PUBLISH (a confirmation after every commit per node) written directly, for
// the host's MQTT link (src/host/mqtt-link.ts, issue 14: mqtt-packet's generic parser and
// generator cost ~3 µs a packet). Anything unusual is left to mqtt-packet, the reference.
import { MAX_VARIABLE_BYTE_INTEGER, readVariableByteInteger, variableByteIntegerLength, writeVariableByteInteger, type VariableByteIntegerRead } from '../mqtt/variable-byte-integer.js';

export type UserProperties = Record<string, string | string[]>;

/**
 * Splits a byte stream into whole packets. A packet above `max` bytes is refused from its fixed
 * header, before its body is buffered (bounded input); a split packet is joined once, when all
 * of it has arrived.
 */
export class FrameSplitter {
  private parts: Buffer[] = [];
  private held = 0;
  /** Bytes the first held packet needs in all; 0 while its header is incomplete. */
  private need = 0;
  private readonly len: VariableByteIntegerRead = { value: 0, next: 0 };

  constructor(private readonly max: number) {}

  /** Calls `onFrame` for each whole packet until it returns false; an error ends the stream. */
  push(chunk: Buffer, onFrame: (frame: Buffer) => boolean): 'too-large' | 'malformed-length' | undefined {
    if (this.parts.length > 0) {
      this.parts.push(chunk);
      this.held += chunk.length;
      if (this.need > 0 && this.held < this.need) return undefined;
      chunk = Buffer.concat(this.parts, this.held);
      this.parts = [];
      this.held = 0;
      this.need = 0;
    }
    let at = 0;
    const len = this.len;
    while (at < chunk.length) {
      const r = readVariableByteInteger(chunk, at + 1, chunk.length, len);
      if (r === 'malformed') return 'malformed-length';
      const total = r === 'short' ? 0 : len.next - at + len.value;
      if (total > this.max) return 'too-large';
      if (total === 0 || at + total > chunk.length) {
        // A copy: the rest of a large chunk is not kept alive by the few bytes held.
        const rest = Buffer.from(chunk.subarray(at));
        this.parts = [rest];
        this.held = rest.length;
        this.need = total;
        return undefined;
      }
      const frame = chunk.subarray(at, at + total);
      at += total;
      if (!onFrame(frame)) return undefined;
    }
    return undefined;
  }
}

export interface PublishFields {
  topic: string;
  payload: Buffer;
  qos: number;
  messageId: number | undefined;
  userProperties: UserProperties | undefined;
}

/** A PUBLISH frame's fields (QoS 0 or 1), or undefined to let mqtt-packet decide. */
export function readPublish(frame: Buffer, protocolVersion: number): PublishFields | undefined {
  const qos = ((frame[0] as number) >> 1) & 3;
  const len = { value: 0, next: 0 };
  if (qos > 1 || readVariableByteInteger(frame, 1, frame.length, len) !== 'ok' || len.next + 2 > frame.length) return undefined;
  let pos = len.next;
  const topicEnd = pos + 2 + frame.readUInt16BE(pos);
  if (topicEnd > frame.length) return undefined;
  const topic = frame.toString('utf8', pos + 2, topicEnd);
  pos = topicEnd;
  let messageId: number | undefined;
  if (qos === 1) {
    if (pos + 2 > frame.length) return undefined;
    messageId = frame.readUInt16BE(pos);
    pos += 2;
  }
  let userProperties: UserProperties | undefined;
  if (protocolVersion === 5) {
    const r = readPublishProperties(frame, pos);
    if (r === undefined) return undefined;
    pos = r.end;
    userProperties = r.user;
  }
  return { topic, payload: frame.subarray(pos), qos, messageId, userProperties };
}

/** MQTT 5 PUBLISH properties (§3.3.2.3): the user properties, and where the payload starts. */
function readPublishProperties(b: Buffer, at: number): { end: number; user: UserProperties | undefined } | undefined {
  const len = { value: 0, next: 0 };
  if (readVariableByteInteger(b, at, b.length, len) !== 'ok') return undefined;
  let pos = len.next;
  const end = pos + len.value;
  if (end > b.length) return undefined;
  let user: UserProperties | undefined;
  const str = (): string | undefined => {
    if (pos + 2 > end) return undefined;
    const e = pos + 2 + b.readUInt16BE(pos);
    if (e > end) return undefined;
    const s = b.toString('utf8', pos + 2, e);
    pos = e;
    return s;
  };
  while (pos < end) {
    const id = b[pos++] as number;
    if (id === 0x26) {
      const k = str();
      const v = str();
      if (k === undefined || v === undefined) return undefined;
      // No prototype: a key such as "constructor" or "__proto__" from the wire is only a key.
      user ??= Object.create(null) as UserProperties;
      const prev = user[k];
      // push, not a copy per repeat: a packet of one key repeated is linear, not quadratic.
      if (prev === undefined) user[k] = v;
      else if (Array.isArray(prev)) prev.push(v);
      else user[k] = [prev, v];
    } else if (id === 0x01) pos += 1;
    else if (id === 0x02) pos += 4;
    else if (id === 0x23) pos += 2;
    else if (id === 0x03 || id === 0x08 || id === 0x09) {
      if (str() === undefined) return undefined;
    } else if (id === 0x0b) {
      if (readVariableByteInteger(b, pos, end, len) !== 'ok') return undefined;
      pos = len.next;
    } else return undefined; // not a PUBLISH property: mqtt-packet reports the malformed packet
  }
  return pos === end ? { end, user } : undefined;
}

/** A PUBLISH without properties (QoS 0 or 1); undefined when too long for one packet. */
export function writePublish(topic: string, payload: Buffer, qos: 0 | 1, retain: boolean, messageId: number, protocolVersion: number): Buffer | undefined {
  const topicBytes = Buffer.byteLength(topic);
  const body = 2 + topicBytes + 2 * qos + (protocolVersion === 5 ? 1 : 0) + payload.length;
  if (body > MAX_VARIABLE_BYTE_INTEGER) return undefined;
  const out = Buffer.allocUnsafe(1 + variableByteIntegerLength(body) + body);
  out[0] = 0x30 | (qos << 1) | (retain ? 1 : 0);
  let at = out.writeUInt16BE(topicBytes, writeVariableByteInteger(out, 1, body));
  at += out.write(topic, at, 'utf8');
  if (qos === 1) at = out.writeUInt16BE(messageId, at);
  // MQTT 5: a Property Length of 0 [MQTT-3.3.2.3].
  if (protocolVersion === 5) out[at++] = 0;
  payload.copy(out, at);
  return out;
}
