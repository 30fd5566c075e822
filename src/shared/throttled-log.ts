// "Log the first, then a summary per interval" (issue 16): the one implementation behind the
// upstream's repeated connect failures (src/bridge/connect-failures.ts), a serial device's bad
// frames and the store's budget warning (src/store/budget-log.ts). A weekend-long outage or a
// device that sends garbage on every frame would otherwise fill the journal with identical
// lines that tell the operator nothing more.
import type { Logger } from '../observe/logger.js';
import type { Clock, TimerHandle } from './clock.js';

export interface LogThrottleOptions {
  /** Milliseconds on the injected clock (wall or monotonic, as the caller's intervals are). */
  now: () => number;
  intervalMs: number;
  /**
   * Called once a held-back summary is due, so it is not held forever when the repeats stop;
   * needs `timers`.
   */
  onSummaryDue?: () => void;
  timers?: Pick<Clock, 'setTimeout' | 'clearTimeout'>;
}

/**
 * Decides when a line is due. The first occurrence of a key is due at once; the same key
 * again at most once per interval, carrying how many were held back. A different key is due
 * at once.
 */
export class LogThrottle {
  readonly intervalMs: number;
  private lastKey: string | undefined;
  private lastAt: number | undefined;
  private held = 0;
  private timer: TimerHandle | undefined;

  constructor(private readonly options: LogThrottleOptions) {
    this.intervalMs = options.intervalMs;
  }

  /**
   * undefined: hold this one back (counted). Otherwise log it, with `suppressed` occurrences
   * held back since the previous line.
   */
  hit(key = '', t = this.options.now()): { suppressed: number } | undefined {
    if (this.lastAt !== undefined && key === this.lastKey && t - this.lastAt < this.intervalMs) {
      this.held += 1;
      this.armSummary(t, this.lastAt);
      return undefined;
    }
    const suppressed = this.held;
    this.lastKey = key;
    this.lastAt = t;
    this.held = 0;
    return { suppressed };
  }

  /** A summary line went out now (outside hit()); the interval restarts from here. */
  logged(t = this.options.now()): void {
    this.lastAt = t;
    this.held = 0;
  }

  /** When the last line went out, on the injected clock (undefined before the first). */
  get lastLineAt(): number | undefined {
    return this.lastAt;
  }

  /** Forgets the last key (the condition ended); returns how many were held back unlogged. */
  reset(): number {
    const held = this.held;
    this.lastKey = undefined;
    this.held = 0;
    return held;
  }

  /** No timer remains. */
  close(): void {
    if (this.timer !== undefined) this.options.timers?.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private armSummary(t: number, lastAt: number): void {
    const { onSummaryDue, timers } = this.options;
    if (onSummaryDue === undefined || timers === undefined || this.timer !== undefined) return;
    this.timer = timers.setTimeout(() => {
      this.timer = undefined;
      onSummaryDue();
    }, Math.max(1, lastAt + this.intervalMs - t));
  }
}

/** A warn line through a LogThrottle: the first at once, then one per interval with `suppressed`. */
export class ThrottledWarn {
  private readonly throttle: LogThrottle;

  constructor(
    private readonly logger: Logger,
    clock: Clock,
    intervalMs = 10_000,
  ) {
    this.throttle = new LogThrottle({ now: () => clock.monotonic(), intervalMs });
  }

  warn(fields: Record<string, unknown>, message: string): void {
    const line = this.throttle.hit();
    if (line === undefined) return;
    this.logger.warn({ ...fields, ...(line.suppressed > 0 ? { suppressed: line.suppressed } : {}) }, message);
  }
}
