// Splits a byte stream into whole MQTT packets before mqtt-packet parses them, so that the
// size limit is enforced from the fixed header alone: an oversized packet is refused before
// its body is buffered (MQTT 5.0 §3.1.2.11.4, [MQTT-3.2.2-15] for the server side).

export type FrameError = 'malformed-length' | 'too-large';

export class Framer {
  private pending: Buffer | undefined;

  constructor(private maxPacketSize: number) {}

  setMaxPacketSize(bytes: number): void {
    this.maxPacketSize = bytes;
  }

  /**
   * Calls `onFrame` for each complete packet in `chunk` (plus what was held back), as the
   * range buf[start, end): no Buffer view per packet (issue 15). Returns an error instead of
   * throwing when the stream cannot be framed; the caller closes the connection then
   * [MQTT-4.13.1-1].
   */
  push(chunk: Buffer, onFrame: (buf: Buffer, start: number, end: number) => boolean): FrameError | undefined {
    // Recursion below happens at most once: after it, `pending` is empty.
    let buf = chunk;
    if (this.pending !== undefined) {
      // Complete the held-back frame with just the bytes it needs, rather than copying the
      // whole chunk behind it (measured: that copy doubled the Buffer garbage at 1 KB packets).
      const held = this.pending;
      const head = held.length >= 5 ? held : Buffer.concat([held, chunk.subarray(0, 5)]);
      const total = frameLength(head, 0);
      if (total === 'malformed-length') return total;
      if (total === 'incomplete' || held.length + chunk.length < total) {
        this.pending = chunk.length === 0 ? held : Buffer.concat([held, chunk]);
        return typeof total === 'number' && total > this.maxPacketSize ? 'too-large' : undefined;
      }
      if (total > this.maxPacketSize) return 'too-large';
      if (held.length >= total) {
        // Whole frames were held back (the consumer had stopped): frame them all as usual.
        this.pending = undefined;
        return this.push(chunk.length === 0 ? held : Buffer.concat([held, chunk]), onFrame);
      }
      const need = total - held.length;
      const frame = Buffer.concat([held, chunk.subarray(0, need)], total);
      this.pending = undefined;
      buf = chunk.subarray(need);
      if (!onFrame(frame, 0, total)) {
        if (buf.length > 0) this.pending = Buffer.from(buf);
        return undefined;
      }
    }
    let offset = 0;
    // Bounded: each turn consumes one whole frame or stops.
    while (offset < buf.length) {
      const total = frameLength(buf, offset);
      if (total === 'malformed-length') return total;
      if (total === 'incomplete') break;
      if (total > this.maxPacketSize) return 'too-large';
      if (offset + total > buf.length) break;
      const start = offset;
      offset += total;
      // The consumer may stop (closed, or waiting on an async step): keep the rest for later.
      if (!onFrame(buf, start, offset)) break;
    }
    if (offset < buf.length) {
      // Copy the tail so the large chunk it came from can be collected.
      this.pending = Buffer.from(buf.subarray(offset));
    }
    return undefined;
  }

  /** Holds bytes without framing them, while the consumer waits; `push(empty)` resumes. */
  hold(chunk: Buffer): void {
    this.pending = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
  }

  get buffered(): number {
    return this.pending?.length ?? 0;
  }
}

/** Whole length of the frame starting at `offset`, from its Remaining Length (MQTT 5.0 §1.5.5: at most four bytes). */
function frameLength(buf: Buffer, offset: number): number | 'incomplete' | 'malformed-length' {
  let remaining = 0;
  let multiplier = 1;
  let i = offset + 1;
  for (let n = 0; n < 4; n++, i++) {
    if (i >= buf.length) return 'incomplete';
    const byte = buf[i] as number;
    remaining += (byte & 0x7f) * multiplier;
    multiplier *= 128;
    if ((byte & 0x80) === 0) return i + 1 - offset + remaining;
  }
  return 'malformed-length';
}
