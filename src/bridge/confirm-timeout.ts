// A bound on waiting for the upstream's confirmations (issue 19). A record in the window, or
// the QoS 1 ack fence behind a batch of QoS 0 records, waits for a PUBACK; when none arrives
// (a broker that wedged, a PUBACK lost under a command flood) the window stays full for good:
// "connected, 20 in flight", the outbox growing, the CPU idle, until a restart. This watches
// for progress: records in flight and no confirmation for `timeoutMs` ends the session, and
// the usual reconnect replays what was in flight (the dedup key makes repeats harmless).
import type { Clock } from '../shared/clock.js';
import { SessionWatchdog } from './session-watchdog.js';

/** Default: long enough for a busy broker over a slow link, short enough to recover in seconds. */
export const CONFIRM_TIMEOUT_MS = 8_000;

export interface ConfirmTimeoutHooks {
  clock: Clock;
  timeoutMs: number;
  /** Records (and fences) waiting for a confirmation now. */
  waiting: () => number;
  /** No confirmation for timeoutMs while records waited: end the session. */
  stuck: (waitedMs: number) => void;
}

export class ConfirmTimeout extends SessionWatchdog {
  private lastProgress = 0;

  constructor(private readonly h: ConfirmTimeoutHooks) {
    super(h.clock, () => h.timeoutMs);
  }

  /** A session began: watch it. */
  start(): void {
    this.lastProgress = this.h.clock.monotonic();
    this.schedule();
  }

  /** A confirmation arrived (or the window emptied): the session is alive. */
  progress(): void {
    this.lastProgress = this.h.clock.monotonic();
  }

  protected check(): boolean {
    const now = this.h.clock.monotonic();
    if (this.h.waiting() === 0) this.lastProgress = now;
    const waited = now - this.lastProgress;
    if (waited >= this.h.timeoutMs) {
      this.h.stuck(waited); // the session ends; the next one calls start() again
      return false;
    }
    return true;
  }
}
