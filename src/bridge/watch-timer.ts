// The timer of the bridge's session watchdogs (confirm timeout, host gap, host stall; issue 16:
// one copy). A check runs a few times per timeout: cheap, and no timer per record. The check
// returns whether to go on; one that ends the session returns false, and the next session
// arms the timer again.
import type { Clock, TimerHandle } from '../shared/clock.js';

export class WatchTimer {
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    /** The watchdog's timeout; the check runs every quarter of it (50 ms at least). */
    private readonly timeoutMs: () => number,
    private readonly check: () => boolean,
  ) {}

  /** Arms the next check. */
  schedule(): void {
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (this.check()) this.schedule();
    }, Math.max(50, Math.floor(this.timeoutMs() / 4)));
  }

  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
