// The protobuf wire reader under the host's fast Sparkplug decode (fast-decode.ts, issue 14):
// varints kept as two 32-bit halves so 64-bit fields cost no BigInt unless one is asked for,
// and every read checked against the end of its field, so a truncated payload throws a
// RangeError instead of reading past it.
export const TWO32 = 4294967296;

export class Reader {
  pos: number;
  /** The last 64-bit varint as two 32-bit halves (unsigned). */
  lo = 0;
  hi = 0;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  /** A varint into lo/hi; throws past the end or beyond 10 bytes. */
  varint(): void {
    const b = this.buf;
    let lo = 0;
    let hi = 0;
    let i = 0;
    for (; i < 4; i++) {
      if (this.pos >= this.end) throw new RangeError('truncated varint');
      const c = b[this.pos++] as number;
      lo = (lo | ((c & 0x7f) << (i * 7))) >>> 0;
      if (c < 0x80) {
        this.lo = lo;
        this.hi = 0;
        return;
      }
    }
    // Byte 5 carries bits 28-34: 4 into lo, 3 into hi.
    if (this.pos >= this.end) throw new RangeError('truncated varint');
    let c = b[this.pos++] as number;
    lo = (lo | ((c & 0x0f) << 28)) >>> 0;
    hi = (c & 0x7f) >> 4;
    if (c >= 0x80) {
      for (i = 0; i < 5; i++) {
        if (this.pos >= this.end) throw new RangeError('truncated varint');
        c = b[this.pos++] as number;
        hi = (hi | ((c & 0x7f) << (i * 7 + 3))) >>> 0;
        if (c < 0x80) break;
      }
      if (c >= 0x80) throw new RangeError('varint longer than 10 bytes');
    }
    this.lo = lo;
    this.hi = hi >>> 0;
  }

  /** The last varint as a number (exact below 2^53). */
  num(): number {
    return this.hi * TWO32 + this.lo;
  }

  /** The last varint as an unsigned 64-bit bigint. */
  big(): bigint {
    return this.hi < 0x200000 ? BigInt(this.hi * TWO32 + this.lo) : (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }

  /** Length of a length-delimited field; checks it fits. */
  len(): number {
    this.varint();
    const n = this.num();
    if (this.pos + n > this.end) throw new RangeError('length past the end');
    return n;
  }

  /** Start of a fixed-width field of `n` bytes (float 4, double 8); moves past it. */
  fixed(n: number): number {
    const at = this.pos;
    if (at + n > this.end) throw new RangeError('fixed-width field past the end');
    this.pos = at + n;
    return at;
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 5) this.pos += 4;
    else if (wire === 2) {
      // Not `this.pos += this.len()`: that adds to the position read before the length.
      const n = this.len();
      this.pos += n;
    }
    else throw new RangeError(`wire type ${wire} not supported`);
    if (this.pos > this.end) throw new RangeError('field past the end');
  }
}
