// The bytes one connection sends during the current tick, gathered in one buffer and written
// once when the tick ends (issue 15). Packets are encoded straight into it: under a flood this
// replaces a Buffer, a stream write entry and a callback per packet with one of each per tick,
// garbage that V8 otherwise promoted to its old space and that set the broker's peak RSS.

/** First size of a tick's buffer; it then follows what the last tick needed, within bounds. */
const MIN_BYTES = 512;
const MAX_HINT_BYTES = 64 * 1024;

/**
 * Buffers the kernel has taken whole, shared by every connection of the process: a busy tick
 * reuses one instead of allocating 64 KiB that waits for a GC (and, in glibc's heap, keeps RSS
 * up after). Bounded in count and size, so idle connections hold nothing.
 */
const SPARES_MAX = 8;
const spares: Buffer[] = [];

function takeSpare(need: number): Buffer | undefined {
  const spare = spares.pop();
  return spare !== undefined && spare.length >= need ? spare : undefined;
}

export class OutBatch {
  private buf: Buffer | undefined;
  private used = 0;
  private hint = MIN_BYTES;
  private readonly flushSoon = (): void => this.flushNow();

  /**
   * `flush` is called once per tick that wrote something, with exactly the bytes written; it
   * returns true when the stream is done with them (the kernel took them whole), so the
   * buffer may be reused.
   */
  constructor(private readonly flush: (chunk: Buffer) => boolean) {}

  /** Bytes gathered and not yet handed to the stream. */
  get length(): number {
    return this.used;
  }

  /**
   * A buffer with room for `n` more bytes at `this.length`; the caller writes them there and
   * calls commit(n). The first reservation of a tick schedules the flush.
   */
  reserve(n: number): Buffer {
    const need = this.used + n;
    let buf = this.buf;
    if (buf === undefined) {
      // Not from Node's shared pool: a batch kept as a spare would pin a whole pool slab.
      buf = (this.hint > MIN_BYTES ? takeSpare(need) : undefined) ?? Buffer.allocUnsafeSlow(Math.max(need, this.hint));
      this.buf = buf;
      process.nextTick(this.flushSoon);
    } else if (need > buf.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(need, buf.length * 2));
      buf.copy(bigger, 0, 0, this.used);
      buf = bigger;
      this.buf = buf;
    }
    return buf;
  }

  commit(n: number): void {
    this.used += n;
  }

  append(bytes: Buffer): void {
    const buf = this.reserve(bytes.length);
    this.used += bytes.copy(buf, this.used);
  }

  /** Hands what was gathered to the stream now (end of tick, or before the connection ends). */
  flushNow(): void {
    const buf = this.buf;
    if (buf === undefined) return;
    const used = this.used;
    this.buf = undefined;
    this.used = 0;
    this.hint = Math.min(MAX_HINT_BYTES, Math.max(MIN_BYTES, used));
    if (used === 0) return;
    const released = this.flush(used === buf.length ? buf : buf.subarray(0, used));
    if (released && buf.length > MIN_BYTES && buf.length <= MAX_HINT_BYTES && spares.length < SPARES_MAX) spares.push(buf);
  }

  /** The connection is gone: nothing gathered is written. */
  discard(): void {
    this.buf = undefined;
    this.used = 0;
  }
}
