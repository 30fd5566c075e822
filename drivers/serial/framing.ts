// Cuts a serial byte stream into frames. Pure apart from the injected clock (inter-byte
// timeouts), so every framing rule is unit-tested without a port.
//
// Why not @serialport/parser-delimiter and friends: they grow their buffer without bound while
// no delimiter arrives (a babbling device eats the Pi's memory), there is no start/end-marker
// parser, and they run on real timers. This framer keeps at most `maxLength` bytes, drops an
// over-long frame up to the next boundary and resynchronises, and uses the gateway clock.
import type { Clock, TimerHandle } from '../../src/shared/clock.js';

export type FramingRule =
  | { kind: 'delimiter'; delimiter: string }
  | { kind: 'length'; length: number }
  | { kind: 'markers'; start: string; end: string }
  | { kind: 'idle' };

export interface FramingOptions {
  rule: FramingRule;
  /** Longest frame kept; longer ones are dropped whole (counted as overlong). */
  maxLength: number;
  /** Silence that ends a frame (`idle`) or discards a partial one (every other rule). */
  interByteTimeout?: number | undefined;
  /** How marker and delimiter strings become bytes (latin1 keeps "\x02" as byte 0x02). */
  encoding: BufferEncoding;
}

export type DiscardReason = 'overlong' | 'partial';

export interface FramerEvents {
  frame(frame: Buffer): void;
  discard(reason: DiscardReason, bytes: number): void;
}

export class Framer {
  private buf: Buffer = Buffer.alloc(0);
  /** After an over-long frame: drop bytes until the next boundary, then resynchronise. */
  private dropping = false;
  private dropped = 0;
  /** markers: inside a start..end pair. */
  private inFrame = false;
  private timer: TimerHandle | undefined;
  private readonly delimiter: Buffer | undefined;
  private readonly start: Buffer | undefined;
  private readonly end: Buffer | undefined;

  constructor(
    private readonly options: FramingOptions,
    private readonly clock: Clock,
    private readonly events: FramerEvents,
  ) {
    const r = options.rule;
    if (r.kind === 'delimiter') this.delimiter = Buffer.from(r.delimiter, options.encoding);
    if (r.kind === 'markers') {
      this.start = Buffer.from(r.start, options.encoding);
      this.end = Buffer.from(r.end, options.encoding);
    }
    if (r.kind === 'idle' && options.interByteTimeout === undefined) throw new Error('idle framing needs interByteTimeout');
  }

  push(chunk: Buffer): void {
    this.clearTimer();
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    switch (this.options.rule.kind) {
      case 'delimiter':
        this.cutAtBoundary(this.delimiter as Buffer);
        break;
      case 'markers':
        this.cutMarkers();
        break;
      case 'length':
        this.cutLength(this.options.rule.length);
        break;
      case 'idle':
        this.capIdle();
        break;
    }
    const timeout = this.options.interByteTimeout;
    if (timeout !== undefined && (this.buf.length > 0 || this.inFrame || this.dropping)) {
      this.timer = this.clock.setTimeout(() => this.onSilence(), timeout);
    }
  }

  /** Forget any partial frame: a poll sends a new request and wants only the reply to it. */
  reset(): void {
    this.clearTimer();
    this.buf = Buffer.alloc(0);
    this.dropping = false;
    this.dropped = 0;
    this.inFrame = false;
  }

  /** Cancels the inter-byte timer; the owner calls this on close so no timer outlives the port. */
  dispose(): void {
    this.reset();
  }

  private cutAtBoundary(boundary: Buffer): void {
    // Bounded: each pass consumes at least one boundary or leaves the loop.
    for (;;) {
      const at = this.buf.indexOf(boundary);
      if (at < 0) break;
      const body = this.buf.subarray(0, at);
      this.buf = this.buf.subarray(at + boundary.length);
      if (this.dropping) {
        this.events.discard('overlong', this.dropped + body.length + boundary.length);
        this.dropping = false;
        this.dropped = 0;
      } else if (body.length > this.options.maxLength) {
        this.events.discard('overlong', body.length + boundary.length);
      } else {
        this.events.frame(Buffer.from(body));
      }
    }
    this.capPending(boundary.length);
  }

  private cutMarkers(): void {
    const start = this.start as Buffer;
    const end = this.end as Buffer;
    for (;;) {
      if (!this.inFrame) {
        const s = this.buf.indexOf(start);
        if (s < 0) {
          // Noise between frames: keep only what could be the beginning of a start marker.
          this.buf = this.buf.subarray(Math.max(0, this.buf.length - (start.length - 1)));
          return;
        }
        this.buf = this.buf.subarray(s + start.length);
        this.inFrame = true;
      }
      const e = this.buf.indexOf(end);
      if (e < 0) break;
      const body = this.buf.subarray(0, e);
      this.buf = this.buf.subarray(e + end.length);
      this.inFrame = false;
      if (this.dropping) {
        this.events.discard('overlong', this.dropped + body.length);
        this.dropping = false;
        this.dropped = 0;
      } else if (body.length > this.options.maxLength) {
        this.events.discard('overlong', body.length);
      } else {
        this.events.frame(Buffer.from(body));
      }
    }
    this.capPending(end.length);
  }

  private cutLength(length: number): void {
    while (this.buf.length >= length) {
      this.events.frame(Buffer.from(this.buf.subarray(0, length)));
      this.buf = this.buf.subarray(length);
    }
  }

  private capIdle(): void {
    if (this.dropping) {
      this.dropped += this.buf.length;
      this.buf = Buffer.alloc(0);
    } else if (this.buf.length > this.options.maxLength) {
      this.dropping = true;
      this.dropped = this.buf.length;
      this.buf = Buffer.alloc(0);
    }
  }

  /**
   * Keeps memory bounded while a boundary is missing: past maxLength the frame is already lost,
   * so only the tail that might hold the start of a boundary is kept.
   */
  private capPending(boundaryLength: number): void {
    const keep = boundaryLength - 1;
    if (this.dropping) {
      const drop = Math.max(0, this.buf.length - keep);
      this.dropped += drop;
      this.buf = this.buf.subarray(drop);
    } else if (this.buf.length > this.options.maxLength + keep) {
      const drop = this.buf.length - keep;
      this.dropping = true;
      this.dropped = drop;
      this.buf = this.buf.subarray(drop);
    }
    // Copy so a long-lived small tail does not pin a large chunk from the port.
    if (this.buf.length > 0) this.buf = Buffer.from(this.buf);
  }

  private onSilence(): void {
    this.timer = undefined;
    if (this.options.rule.kind === 'idle') {
      if (this.dropping) this.events.discard('overlong', this.dropped);
      else if (this.buf.length > 0) this.events.frame(Buffer.from(this.buf));
    } else {
      const bytes = this.dropping ? this.dropped + this.buf.length : this.buf.length;
      if (this.dropping) this.events.discard('overlong', bytes);
      else if (bytes > 0 || this.inFrame) this.events.discard('partial', bytes);
    }
    this.buf = Buffer.alloc(0);
    this.dropping = false;
    this.dropped = 0;
    this.inFrame = false;
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
