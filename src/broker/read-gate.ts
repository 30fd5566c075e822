// When a connection may read: the one pause/resume gate. Reading stops while an async step
// runs (the password check), while a fast publisher is paused, or while the subscribers it
// congested drain; it resumes, buffered packets first, only when none of the three holds.
import type { Duplex } from 'node:stream';
import type { BrokerLimits } from '../config/sections/broker.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
import { MAX_STALL_MS } from './backpressure.js';
import type { BrokerMetrics } from './metrics.js';
import type { Session } from './session.js';

export interface ReadGateHost {
  readonly stream: Duplex;
  readonly clock: Clock;
  readonly limits: BrokerLimits;
  readonly metrics: BrokerMetrics;
  isClosed(): boolean;
  /** Frames the bytes that waited in the framer while the gate was shut. */
  readBuffered(): void;
  /** A throttling pause stops keep alive supervision (no bytes are read meanwhile)... */
  suspendKeepalive(): void;
  /** ...and it starts again, for a full interval, when the pause ends. */
  resumeKeepalive(): void;
}

export class ReadGate {
  /** True while an async step (the password check) runs; later bytes wait in the framer. */
  private waiting = false;
  private paused = false;
  private stalled = false;
  private pauseTimer: TimerHandle | undefined;
  private stallTimer: TimerHandle | undefined;
  private tokens = 0;
  private tokensAt = 0;

  constructor(private readonly host: ReadGateHost) {}

  /** Whether bytes may be framed and handled now. */
  isOpen(): boolean {
    return !this.waiting && !this.paused && !this.stalled;
  }

  /** Packets that arrived behind the held one go first, in order; then the socket reads again. */
  private reopen(): void {
    if (this.host.isClosed()) return;
    this.host.readBuffered();
    if (!this.host.isClosed() && this.isOpen()) this.host.stream.resume();
  }

  /** Holds reading until `pending` settles (an async handler step). */
  waitFor(pending: Promise<unknown>, onError: (err: Error) => void): void {
    this.waiting = true;
    this.host.stream.pause();
    pending
      .catch((err: unknown) => onError(err as Error))
      .finally(() => {
        this.waiting = false;
        this.reopen();
      });
  }

  /** Stops reading this publisher until the congested subscribers drain (backpressure.ts). */
  waitForSubscribers(sessions: readonly Session[]): void {
    if (this.stalled || this.host.isClosed()) return;
    this.stalled = true;
    this.host.stream.pause();
    this.host.metrics.throttled.inc();
    const waiting = new Set(sessions);
    let done = false;
    const resume = () => {
      if (done) return;
      done = true;
      this.host.clock.clearTimeout(timer);
      // Whoever did not drain in time is not keeping up: it stops slowing anyone (issue 18).
      for (const s of waiting) {
        s.watermarks.offClear(waiters.get(s) as () => void);
        s.watermarks.stuck = true;
      }
      this.stalled = false;
      this.reopen();
    };
    const timer = this.host.clock.setTimeout(resume, MAX_STALL_MS);
    this.stallTimer = timer;
    const waiters = new Map<Session, () => void>();
    for (const s of sessions) {
      const cleared = () => {
        waiting.delete(s);
        if (waiting.size === 0) resume();
      };
      waiters.set(s, cleared);
      s.watermarks.onClear(cleared);
    }
  }

  /** Per-client publish rate: a fast publisher is paused, never dropped (issue 3 limits). */
  throttlePublish(): void {
    const rate = this.host.limits.publishesPerSecondPerClient;
    if (rate <= 0) return;
    const now = this.host.clock.monotonic();
    this.tokens = Math.min(rate, this.tokens + ((now - this.tokensAt) * rate) / 1000);
    this.tokensAt = now;
    this.tokens -= 1;
    if (this.tokens >= 0 || this.paused) return;
    this.pauseFor(Math.ceil((-this.tokens * 1000) / rate));
  }

  /**
   * Stops reading this client for `ms` (its bytes wait in the kernel, then in the framer), so a
   * burst is slowed, never refused: publish rate, and a 3.1.1 client past the in-flight limit
   * it cannot know about (issue 12 item 5).
   */
  pauseFor(ms: number): void {
    if (this.paused || this.host.isClosed()) return;
    this.paused = true;
    this.host.stream.pause();
    this.host.metrics.throttled.inc();
    this.host.suspendKeepalive();
    this.pauseTimer = this.host.clock.setTimeout(() => {
      this.pauseTimer = undefined;
      this.paused = false;
      if (this.host.isClosed()) return;
      this.host.resumeKeepalive();
      this.reopen();
    }, ms);
  }

  /** The connection closed: no timer of the gate remains. */
  close(): void {
    if (this.pauseTimer !== undefined) this.host.clock.clearTimeout(this.pauseTimer);
    this.pauseTimer = undefined;
    if (this.stallTimer !== undefined) this.host.clock.clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
  }
}
