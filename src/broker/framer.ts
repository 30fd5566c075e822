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
   * Calls `onFrame` for each complete packet in `chunk` (plus what was held back). Returns an
   * error instead of throwing when the stream cannot be framed; the caller closes the
   * connection then [MQTT-4.13.1-1].
   */
  push(chunk: Buffer, onFrame: (frame: Buffer) => boolean): FrameError | undefined {
    const buf = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = undefined;
    let offset = 0;
    // Bounded: each turn consumes at least one whole frame or returns.
    while (offset < buf.length) {
      let remaining = 0;
      let multiplier = 1;
      let i = offset + 1;
      let complete = false;
      // Remaining Length is at most four bytes (MQTT 5.0 §1.5.5).
      for (let n = 0; n < 4; n++, i++) {
        if (i >= buf.length) break;
        const byte = buf[i] as number;
        remaining += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if ((byte & 0x80) === 0) {
          complete = true;
          i++;
          break;
        }
        if (n === 3) return 'malformed-length';
      }
      if (!complete) break;
      const total = i - offset + remaining;
      if (total > this.maxPacketSize) return 'too-large';
      if (offset + total > buf.length) break;
      const frame = buf.subarray(offset, offset + total);
      offset += total;
      // The consumer may stop (closed, or waiting on an async step): keep the rest for later.
      if (!onFrame(frame)) break;
    }
    if (offset < buf.length) {
      // Copy the tail so the large chunk it came from can be collected.
      this.pending = offset === 0 ? buf : Buffer.from(buf.subarray(offset));
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
