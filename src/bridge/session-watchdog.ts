// The timer of the bridge's session watchdogs (confirm timeout, host gap, host stall; issue 16:
// one copy). The check runs a few times per timeout: cheap, and no timer per record. It
// returns whether to go on; one that ends the session returns false, and the next session's
// start() arms the timer again.
import type { Clock, TimerHandle } from '../shared/clock.js';

export abstract class SessionWatchdog {
  private timer: TimerHandle | undefined;

  /** `timeoutMs`: the watchdog's timeout; the check runs every quarter of it (50 ms at least). */
  constructor(
    private readonly timerClock: Clock,
    private readonly timeoutMs: () => number,
  ) {}

  stop(): void {
    if (this.timer !== undefined) this.timerClock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Arms the next check. */
  protected schedule(): void {
    this.timer = this.timerClock.setTimeout(() => {
      this.timer = undefined;
      if (this.check()) this.schedule();
    }, Math.max(50, Math.floor(this.timeoutMs() / 4)));
  }

  /** One look; false when it ended the session. */
  protected abstract check(): boolean;
}
