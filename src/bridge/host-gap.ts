// `upstream.confirm: host`: a record the consumer never received (a message lost between the
// broker and the consumer, a DATA it could not decode before a rebirth) is a gap below its
// `above` ranges. The edge sends unconfirmed records again only after a reconnect, so without
// this the gap, and everything the outbox holds behind it, would wait for the next network
// failure, possibly forever (issue 14, item 2). The signal is exact: the consumer has
// committed records past the oldest one still held (its `above` reaches beyond it), this
// session has sent records, and that stays so for `timeoutMs`. Then the session ends and the
// usual reconnect sends every unconfirmed record again (the consumer's dedup drops the rest).
// A consumer that is merely slow advances `through` and never triggers it.
import type { Clock } from '../shared/clock.js';
import { SessionWatchdog } from './session-watchdog.js';

/** Long enough for any record in flight and a paced backlog head, short enough to unstick soon. */
export const HOST_GAP_TIMEOUT_MS = 10_000;

export interface HostGapHooks {
  clock: Clock;
  timeoutMs: number;
  /** The oldest record still held when the consumer reported committing later ones, else undefined. */
  gap: () => number | undefined;
  /** The same gap for `timeoutMs`: end the session so that everything unconfirmed is sent again. */
  stuck: (seq: number, waitedMs: number) => void;
}

export class HostGapWatch extends SessionWatchdog {
  private seq: number | undefined;
  private since = 0;
  /** Sessions ended for a gap (a metric-free count for tests and the status page). */
  resends = 0;

  constructor(private readonly h: HostGapHooks) {
    super(h.clock, () => h.timeoutMs);
  }

  /** A session began. */
  start(): void {
    this.stop();
    this.seq = undefined;
    this.schedule();
  }

  protected check(): boolean {
    const now = this.h.clock.monotonic();
    const g = this.h.gap();
    if (g !== this.seq) {
      this.seq = g;
      this.since = now;
    } else if (g !== undefined && now - this.since >= this.h.timeoutMs) {
      this.resends += 1;
      this.h.stuck(g, now - this.since);
      return false; // the session ends; the next one calls start()
    }
    return true;
  }
}
