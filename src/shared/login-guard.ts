// Password guessing (issue 18 item 5). After a few failures from one source address, every
// further login attempt from it waits for its own slot, spaced so that at most
// 1000 / BACKOFF_SPACING_MS (4) guesses a second are checked, however many sockets it opens in
// parallel; a success clears the source. Failures are logged at warn: the first at once, then
// one summary a minute (count, sources, the busiest ones), never one line per guess.
import type { Logger } from '../observe/logger.js';
import type { Clock } from './clock.js';

/** Failures a source may have before its attempts are spaced. */
export const FREE_FAILURES = 5;
/** Spacing of attempts from a source past FREE_FAILURES: 250 ms = 4 guesses a second. */
export const BACKOFF_SPACING_MS = 250;
/** A source with no failure for this long starts afresh. */
const FORGET_MS = 15 * 60_000;
const MAX_SOURCES = 10_000;
const SUMMARY_MS = 60_000;

interface Source {
  failures: number;
  /** Attempts admitted and not yet answered. */
  inFlight: number;
  lastFailure: number;
  /** Monotonic time of the next free slot for an attempt. */
  next: number;
}

export class LoginGuard {
  private readonly sources = new Map<string, Source>();
  private lastSummary = Number.NEGATIVE_INFINITY;
  private windowFailures = 0;
  private readonly windowSources = new Map<string, number>();

  constructor(private readonly clock: Clock, private readonly logger: Logger, private readonly what: string) {}

  /**
   * Resolves when this source may try a password; at once unless it is in back-off. Attempts
   * still being checked count as failures-to-be, so parallel sockets cannot all slip through
   * before the first failure is known. Every admit ends in succeeded() or failed().
   */
  admit(source: string): Promise<void> {
    const now = this.clock.monotonic();
    let s = this.sources.get(source);
    if (s !== undefined && s.inFlight === 0 && now - s.lastFailure > FORGET_MS) {
      this.sources.delete(source);
      s = undefined;
    }
    if (s === undefined) {
      if (this.sources.size >= MAX_SOURCES) this.prune(now);
      s = { failures: 0, inFlight: 0, lastFailure: now, next: now };
      this.sources.set(source, s);
    }
    const spaced = s.failures + s.inFlight >= FREE_FAILURES;
    s.inFlight++;
    if (!spaced) return Promise.resolve();
    const slot = Math.max(now, s.next);
    s.next = slot + BACKOFF_SPACING_MS;
    if (slot <= now) return Promise.resolve();
    return new Promise((resolve) => this.clock.setTimeout(resolve, slot - now));
  }

  succeeded(source: string): void {
    this.sources.delete(source);
  }

  /** The attempt ended without an answer (the socket closed while it waited). */
  abandoned(source: string): void {
    const s = this.sources.get(source);
    if (s !== undefined) s.inFlight = Math.max(0, s.inFlight - 1);
  }

  failed(source: string, detail: Record<string, unknown> = {}): void {
    const now = this.clock.monotonic();
    let s = this.sources.get(source);
    if (s === undefined) {
      if (this.sources.size >= MAX_SOURCES) this.prune(now);
      s = { failures: 0, inFlight: 1, lastFailure: now, next: now };
      this.sources.set(source, s);
    }
    s.inFlight = Math.max(0, s.inFlight - 1);
    s.failures++;
    s.lastFailure = now;
    this.windowFailures++;
    this.windowSources.set(source, (this.windowSources.get(source) ?? 0) + 1);
    if (now - this.lastSummary >= SUMMARY_MS) {
      const busiest = [...this.windowSources.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([address, failures]) => ({ address, failures }));
      this.logger.warn({ failures: this.windowFailures, sources: this.windowSources.size, busiest, ...detail }, `${this.what}: failed logins (one summary a minute)`);
      this.lastSummary = now;
      this.windowFailures = 0;
      this.windowSources.clear();
    }
  }

  private prune(now: number): void {
    for (const [k, s] of this.sources) if (s.inFlight === 0 && now - s.lastFailure > FORGET_MS) this.sources.delete(k);
    if (this.sources.size >= MAX_SOURCES) this.sources.clear();
  }
}
