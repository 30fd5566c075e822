// The warning an operator greps for when store.maxBytes is reached: drop-oldest evicted
// unsent records or reject-new refused new ones. The append path only hands over what one
// append dropped (counts and a seq range, never per record); this turns that into the first
// line at once and then at most one summary per interval, so a long outage under a full
// budget logs a line a minute instead of one per append.
import type { Logger } from '../observe/logger.js';
import { LogThrottle } from '../shared/throttled-log.js';
import type { TimerHandle } from '../shared/clock.js';
import type { OnFull } from './outbox.js';

export interface BudgetDrop {
  evicted: number;
  evictedBytes: number;
  /** Sequence range of the evicted records (0 when none were evicted). */
  oldestSeq: number;
  newestSeq: number;
  rejected: number;
  rejectedBytes: number;
}

export const BUDGET_LOG_MESSAGE = 'outbox: store.maxBytes reached, records dropped';

const UNREF_TIMERS = {
  setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms).unref(),
  clearTimeout: (h: TimerHandle) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

const none = (): BudgetDrop => ({ evicted: 0, evictedBytes: 0, oldestSeq: 0, newestSeq: 0, rejected: 0, rejectedBytes: 0 });

export class BudgetLog {
  private pending = none();
  private readonly throttle: LogThrottle;

  constructor(
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly context: { onFull: OnFull; maxBytes: number; epoch: string },
    intervalMs = 60_000,
  ) {
    // The summary timer runs on real time, not the store's clock: it only makes sure a summary
    // is not held back forever when the drops stop. unref: it never keeps the process alive.
    this.throttle = new LogThrottle({ now, intervalMs, onSummaryDue: () => this.flush(), timers: UNREF_TIMERS });
  }

  note(d: BudgetDrop): void {
    const p = this.pending;
    // A line that also carries held-back drops is a summary; otherwise it starts a new run.
    const held = p.evicted > 0 || p.rejected > 0;
    if (d.evicted > 0) {
      if (p.evicted === 0) p.oldestSeq = d.oldestSeq;
      p.newestSeq = d.newestSeq;
      p.evicted += d.evicted;
      p.evictedBytes += d.evictedBytes;
    }
    p.rejected += d.rejected;
    p.rejectedBytes += d.rejectedBytes;
    const t = this.now();
    const previous = this.throttle.lastLineAt;
    if (this.throttle.hit('', t) !== undefined) this.emit(t, held, previous);
  }

  /** Logs what is pending, if anything (the summary). */
  flush(): void {
    if (this.pending.evicted === 0 && this.pending.rejected === 0) return;
    const t = this.now();
    const previous = this.throttle.lastLineAt;
    this.throttle.logged(t);
    this.emit(t, true, previous);
  }

  close(): void {
    this.throttle.close();
    this.flush();
  }

  private emit(t: number, summary: boolean, previousLineAt: number | undefined): void {
    const p = this.pending;
    this.pending = none();
    const since = summary && previousLineAt !== undefined ? { sinceMs: Math.round(t - previousLineAt) } : {};
    const seqs = p.evicted > 0 ? { oldestSeq: p.oldestSeq, newestSeq: p.newestSeq } : {};
    this.log.warn(
      { code: 'FG_ERR_STORE_BUDGET', ...this.context, evicted: p.evicted, evictedBytes: p.evictedBytes, ...seqs, rejected: p.rejected, rejectedBytes: p.rejectedBytes, summary, ...since },
      BUDGET_LOG_MESSAGE,
    );
  }
}
