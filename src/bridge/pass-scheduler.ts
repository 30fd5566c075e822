// When the drain's next pass runs: on the next turn of the event loop after an event (appends
// and acks arriving in one turn share a pass), or once a pacing wait is over.
import type { Clock, TimerHandle } from '../shared/clock.js';

export class PassScheduler {
  private soon: ReturnType<typeof setImmediate> | undefined;
  private paced: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly pass: () => void,
    private readonly active: () => boolean,
  ) {}

  /** A pass on the next turn of the event loop, unless one is due already. */
  soonest(): void {
    if (this.soon !== undefined || !this.active()) return;
    this.soon = setImmediate(() => {
      this.soon = undefined;
      this.pass();
    });
  }

  /** A pass in `ms` (at least 1), unless a paced one is waiting already. */
  after(ms: number): void {
    if (this.paced !== undefined) return;
    this.paced = this.clock.setTimeout(() => {
      this.paced = undefined;
      this.soonest();
    }, Math.max(1, ms));
  }

  /** Drops the paced pass: a new session paces afresh. */
  cancelPaced(): void {
    if (this.paced !== undefined) {
      this.clock.clearTimeout(this.paced);
      this.paced = undefined;
    }
  }

  cancel(): void {
    this.cancelPaced();
    if (this.soon !== undefined) clearImmediate(this.soon);
    this.soon = undefined;
  }
}
