// PUBLISH and PUBREL packets written by hand, back to back in one buffer, for one socket write
// per drain pass. The drain knows every field already (topic, payload, QoS, packet id, the dedup
// key); going through mqtt.js' publish() cost a packet object, an options spread, a store entry,
// a callback closure and several small socket writes per record, the largest share of the
// drain's CPU (docs/store-and-forward.md, "The drain's hot path").
// Layouts: MQTT 3.1.1 section 3.3 / MQTT 5 section 3.3 (PUBLISH), 3.6 (PUBREL).
import { MAX_VARIABLE_BYTE_INTEGER, variableByteIntegerLength as varintBytes, writeVariableByteInteger as writeVarint } from '../mqtt/variable-byte-integer.js';
import { DEDUP_USER_PROPERTY } from './dedup-key.js';

const USER_PROPERTY = 0x26;
// Below this a batch is copied out (small copies come from Node's buffer pool) and the scratch
// buffer kept; above it the scratch buffer itself is handed to the socket and replaced.
const COPY_BELOW = 16 * 1024;
const INITIAL_BYTES = 64 * 1024;
// Topics repeat (one per device and message type): their UTF-8 bytes are kept, up to this many.
const TOPIC_CACHE = 4096;

export interface PublishHeader {
  topic: string;
  payload: Uint8Array;
  qos: 0 | 1 | 2;
  retain: boolean;
  dup: boolean;
  /** 0 for QoS 0. */
  messageId: number;
}

export class PublishEncoder {
  private buf = Buffer.allocUnsafe(INITIAL_BYTES);
  private len = 0;
  private readonly topics = new Map<string, Buffer>();
  /** `fg-dedup` as a user property, up to the sequence: id, key, length of the value comes later. */
  private readonly dedupHead: Buffer | undefined;
  private readonly dedupPrefix: Buffer | undefined;

  /**
   * @param dedupPrefix on MQTT 5, `<node>/<epoch>/`: every PUBLISH then carries the user
   * property `fg-dedup` = prefix + its sequence (docs/dedup.md). Undefined on 3.1.1.
   */
  constructor(private readonly protocolVersion: 4 | 5, dedupPrefix: string | undefined) {
    if (protocolVersion === 5 && dedupPrefix !== undefined) {
      const key = Buffer.from(DEDUP_USER_PROPERTY);
      this.dedupHead = Buffer.concat([Buffer.from([USER_PROPERTY, key.length >> 8, key.length & 0xff]), key]);
      this.dedupPrefix = Buffer.from(dedupPrefix);
    }
  }

  /** Bytes encoded and not yet taken. */
  get pending(): number {
    return this.len;
  }

  /**
   * Appends one PUBLISH. `seq` is the record's outbox sequence (the dedup key); `extra` are the
   * sender's own MQTT 5 user properties (a `fg-dedup` among them is ignored: the encoder's wins).
   * Returns false, encoding nothing, when the packet is beyond MQTT's size limit.
   */
  publish(h: PublishHeader, seq: number, extra?: Readonly<Record<string, string>>): boolean {
    const topic = this.topicBytes(h.topic);
    let props = 0;
    let seqDigits = 0;
    let extraBytes: Buffer | undefined;
    if (this.protocolVersion === 5) {
      if (this.dedupHead !== undefined && this.dedupPrefix !== undefined) {
        seqDigits = decimalDigits(seq);
        props += this.dedupHead.length + 2 + this.dedupPrefix.length + seqDigits;
      }
      if (extra !== undefined) {
        extraBytes = encodeUserProperties(extra);
        props += extraBytes.length;
      }
    }
    const remaining = 2 + topic.length + (h.qos > 0 ? 2 : 0) + (this.protocolVersion === 5 ? varintBytes(props) + props : 0) + h.payload.length;
    if (remaining > MAX_VARIABLE_BYTE_INTEGER) return false;
    this.ensure(1 + varintBytes(remaining) + remaining);
    const b = this.buf;
    let o = this.len;
    b[o++] = 0x30 | (h.dup && h.qos > 0 ? 0x08 : 0) | (h.qos << 1) | (h.retain ? 1 : 0);
    o = writeVarint(b, o, remaining);
    b[o++] = topic.length >> 8;
    b[o++] = topic.length & 0xff;
    o += topic.copy(b, o);
    if (h.qos > 0) {
      b[o++] = h.messageId >> 8;
      b[o++] = h.messageId & 0xff;
    }
    if (this.protocolVersion === 5) {
      o = writeVarint(b, o, props);
      if (this.dedupHead !== undefined && this.dedupPrefix !== undefined) {
        o += this.dedupHead.copy(b, o);
        const valueLength = this.dedupPrefix.length + seqDigits;
        b[o++] = valueLength >> 8;
        b[o++] = valueLength & 0xff;
        o += this.dedupPrefix.copy(b, o);
        o = writeDecimal(b, o, seq, seqDigits);
      }
      if (extraBytes !== undefined) o += extraBytes.copy(b, o);
    }
    b.set(h.payload, o);
    this.len = o + h.payload.length;
    return true;
  }

  /** Appends a PUBREL (reason Success) for a PUBREC received. */
  pubrel(messageId: number): void {
    this.ensure(4);
    const b = this.buf;
    const o = this.len;
    b[o] = 0x62;
    b[o + 1] = 2;
    b[o + 2] = messageId >> 8;
    b[o + 3] = messageId & 0xff;
    this.len = o + 4;
  }

  /** Everything encoded since the last take, as one Buffer the caller now owns; undefined when nothing is. */
  take(): Buffer | undefined {
    if (this.len === 0) return undefined;
    let out: Buffer;
    if (this.len < COPY_BELOW) {
      out = Buffer.allocUnsafe(this.len);
      this.buf.copy(out, 0, 0, this.len);
    } else {
      out = this.buf.subarray(0, this.len);
      this.buf = Buffer.allocUnsafe(Math.max(INITIAL_BYTES, this.buf.length));
    }
    this.len = 0;
    return out;
  }

  /** Drops whatever was encoded and not taken (the session is going down). */
  discard(): void {
    this.len = 0;
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(grown, 0, 0, this.len);
    this.buf = grown;
  }

  private topicBytes(topic: string): Buffer {
    let t = this.topics.get(topic);
    if (t === undefined) {
      if (this.topics.size >= TOPIC_CACHE) this.topics.clear();
      t = Buffer.from(topic);
      this.topics.set(topic, t);
    }
    return t;
  }
}

function encodeUserProperties(props: Readonly<Record<string, string>>): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(props)) {
    if (k === DEDUP_USER_PROPERTY) continue;
    const kb = Buffer.from(k);
    const vb = Buffer.from(v);
    parts.push(Buffer.from([USER_PROPERTY, kb.length >> 8, kb.length & 0xff]), kb, Buffer.from([vb.length >> 8, vb.length & 0xff]), vb);
  }
  return Buffer.concat(parts);
}

/** Digits of a non-negative safe integer in base 10 (at most 16: 2^53 < 10^16). */
function decimalDigits(n: number): number {
  let d = 1;
  for (let p = 10; n >= p; p *= 10) d++;
  return d;
}

function writeDecimal(b: Buffer, at: number, n: number, digits: number): number {
  let v = n;
  for (let i = digits - 1; i >= 0; i--) {
    b[at + i] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
  return at + digits;
}
