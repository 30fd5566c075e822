// Takes the drain's acks out of the bytes the server sends, before mqtt.js parses them.
// mqtt.js turns every packet into an object, queues it, handles it one process.nextTick
// apart and emits it: about a sixth of the drain's CPU went to PUBACKs it then ignored (their
// ids are the drain's, packet-ids.ts). The tap frames the incoming bytes (fixed header and
// Remaining Length, MQTT section 2.1), consumes PUBACK / PUBREC / PUBCOMP whose packet id the
// drain owns, and hands every other byte on unchanged and in order. It needs only the first
// three bytes after the header (id, reason code); the rest of an ack (MQTT 5 properties) is
// skipped without buffering, so it holds at most 8 bytes between reads.
//
// It sits in the stream's `push`, the one method every Node Readable delivers data through
// (net and TLS sockets from their handle, ws' createWebSocketStream from each message); mqtt.js
// reads the stream through pipe() and so sees only what the tap hands on. Installed before the
// first byte arrives, it is at a packet boundary from the start.
import { readVariableByteInteger } from '../mqtt/variable-byte-integer.js';

export interface AckSink {
  /** True for a packet id the drain allocates. */
  owns(id: number): boolean;
  /** PUBACK (4), PUBREC (5) or PUBCOMP (7) for an id it owns; reason 0 when the ack has none. */
  ack(type: 4 | 5 | 7, id: number, reason: number): void;
}

/** The incremental framer. `filter` returns the bytes for mqtt.js, undefined when there are none. */
export class AckFilter {
  private carry: Buffer | undefined;
  /** Bytes of a packet being handed on that are still to come. */
  private forward = 0;
  /** Bytes of a consumed ack (its properties) still to come. */
  private skip = 0;
  /** After a malformed header nothing is framed any more: mqtt.js gets it all and reports it. */
  private broken = false;
  /** The Remaining Length just read, reused for every packet. */
  private readonly length = { value: 0, next: 0 };

  constructor(private readonly sink: AckSink) {}

  filter(chunk: Buffer): Buffer | undefined {
    let c = chunk;
    if (this.carry !== undefined) {
      c = Buffer.concat([this.carry, chunk]);
      this.carry = undefined;
    }
    if (this.broken) return c.length > 0 ? c : undefined;
    const len = c.length;
    const out: Buffer[] = [];
    let runStart = -1;
    let pos = 0;
    const endRun = (end: number): void => {
      if (runStart >= 0 && end > runStart) out.push(c.subarray(runStart, end));
      runStart = -1;
    };
    // Bounded: every pass advances pos or leaves the loop.
    while (pos < len) {
      if (this.forward > 0) {
        if (runStart < 0) runStart = pos;
        const n = Math.min(this.forward, len - pos);
        pos += n;
        this.forward -= n;
        continue;
      }
      if (this.skip > 0) {
        endRun(pos);
        const n = Math.min(this.skip, len - pos);
        pos += n;
        this.skip -= n;
        continue;
      }
      // A packet starts here: the fixed header byte, then 1-4 bytes of Remaining Length.
      const read = readVariableByteInteger(c, pos + 1, len, this.length);
      if (read !== 'ok') {
        if (read === 'malformed') {
          // A fifth length byte: malformed [MQTT-1.5.5]. mqtt.js gets the bytes and says so.
          this.broken = true;
          if (runStart < 0) runStart = pos;
          pos = len;
          break;
        }
        endRun(pos);
        this.carry = Buffer.from(c.subarray(pos));
        pos = len;
        break;
      }
      const hdr = this.length.next - pos;
      const rl = this.length.value;
      const b0 = c[pos] as number;
      if ((b0 === 0x40 || b0 === 0x50 || b0 === 0x70) && rl >= 2) {
        const need = Math.min(rl, 3);
        if (pos + hdr + need > len) {
          endRun(pos);
          this.carry = Buffer.from(c.subarray(pos));
          pos = len;
          break;
        }
        const id = ((c[pos + hdr] as number) << 8) | (c[pos + hdr + 1] as number);
        if (this.sink.owns(id)) {
          endRun(pos);
          const reason = rl >= 3 ? (c[pos + hdr + 2] as number) : 0;
          pos += hdr + need;
          this.skip = rl - need;
          this.sink.ack((b0 >> 4) as 4 | 5 | 7, id, reason);
          continue;
        }
      }
      if (runStart < 0) runStart = pos;
      const n = Math.min(hdr + rl, len - pos);
      pos += n;
      this.forward = hdr + rl - n;
    }
    endRun(len);
    if (out.length === 0) return undefined;
    return out.length === 1 ? out[0] : Buffer.concat(out);
  }
}

interface Pushable {
  push(chunk: unknown, encoding?: BufferEncoding): boolean;
}

/** Installs the filter in `stream.push`; returns the function that removes it. */
export function tapAcks(stream: Pushable, sink: AckSink): () => void {
  const filter = new AckFilter(sink);
  const original = stream.push;
  stream.push = function tapped(this: Pushable, chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk === null || chunk === undefined) return original.call(this, chunk, encoding);
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    const rest = filter.filter(buf);
    // Everything was the drain's: nothing for the reader, and no reason to slow the source.
    return rest === undefined ? true : original.call(this, rest);
  };
  return () => {
    if (stream.push !== original) stream.push = original;
  };
}
