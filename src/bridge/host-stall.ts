// confirm: host liveness (issue 13). The edge sends a record once per session and the
// consumer's ack deletes it; the protocol sends again "everything unconfirmed after a
// reconnect". A record the broker dropped before the consumer had it (sent while the consumer
// was not subscribed: right after a broker restart, to a consumer without a persistent session;
// or a consumer that lost it uncommitted) is never acked, and waits for the edge's next
// reconnect: on a stable session for ever, while the outbox grows. So: when the consumer's
// confirmations have not advanced for `afterMs` while sent records wait for them, the session
// is ended and the usual reconnect sends everything unconfirmed again (its dedup drops the
// repeats). The wait doubles after each such restart without progress, up to `maxMs`, so a
// consumer that is simply down is not sent the whole outbox every minute.
import type { Logger } from '../observe/logger.js';
import type { Clock } from '../shared/clock.js';
import { SessionWatchdog } from './session-watchdog.js';

export const HOST_RESEND_AFTER_MS = 60_000;
export const HOST_RESEND_MAX_MS = 15 * 60_000;

export interface HostStallHooks {
  clock: Clock;
  log: Logger;
  afterMs: number;
  maxMs: number;
  /** Records sent and not yet confirmed. */
  waiting: () => number;
  /** Grows whenever the consumer confirms something (e.g. the outbox's acked-through mark). */
  progress: () => number;
  /** End the session: the next one sends everything unconfirmed again. */
  restart: () => void;
}

export class HostStall extends SessionWatchdog {
  private wait: number;
  private mark = Number.NaN;
  private since = 0;

  constructor(private readonly h: HostStallHooks) {
    super(h.clock, () => h.afterMs);
    this.wait = h.afterMs;
  }

  /** A session began: watch it (the wait carries over; progress resets it). */
  start(): void {
    this.stop();
    this.since = this.h.clock.monotonic();
    this.schedule();
  }

  protected check(): boolean {
    const now = this.h.clock.monotonic();
    const p = this.h.progress();
    if (p !== this.mark) {
      if (!Number.isNaN(this.mark)) this.wait = this.h.afterMs;
      this.mark = p;
      this.since = now;
    } else if (this.h.waiting() === 0) {
      this.since = now;
    } else if (now - this.since >= this.wait) {
      this.h.log.warn({ code: 'FG_ERR_UPSTREAM_HOST_STALLED', waiting: this.h.waiting(), waitedMs: now - this.since, nextWaitMs: Math.min(this.wait * 2, this.h.maxMs) }, 'confirm: host: the consumer confirmed nothing in time while records waited: ending the session, everything unconfirmed is sent again');
      this.wait = Math.min(this.wait * 2, this.h.maxMs);
      this.since = now;
      this.h.restart();
      return false;
    }
    return true;
  }
}
