// A fixed-rate loop that does not drift: tick k is due at start + k * interval, whatever the
// previous tick cost. A tick that overruns its slot makes the loop skip the slots it missed
// (counted) instead of firing a burst to catch up: a slow Modbus line must not be hammered.
import type { Clock, TimerHandle } from '../shared/clock.js';

export interface FixedRateOptions {
  clock: Clock;
  interval: number;
  /** Runs once per slot; the next slot is not started before this settles. */
  tick: () => Promise<void>;
  /** Called with the number of slots skipped because a tick ran past them. */
  onOverrun?: (missed: number) => void;
  /** Delay of the first tick after start (default 0: at once). */
  initialDelay?: number;
}

export class FixedRateLoop {
  private timer: TimerHandle | undefined;
  private running = false;
  private start = 0;
  private slot = 0;
  private inFlight: Promise<void> | undefined;

  constructor(private readonly options: FixedRateOptions) {
    if (!(options.interval > 0)) throw new RangeError('interval must be positive');
  }

  begin(): void {
    if (this.running) return;
    this.running = true;
    this.start = this.options.clock.monotonic() + (this.options.initialDelay ?? 0);
    this.slot = 0;
    this.arm(this.options.initialDelay ?? 0);
  }

  /** Stops scheduling and waits for a tick in progress, so nothing runs after it resolves. */
  async end(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  get active(): boolean {
    return this.running;
  }

  private arm(delay: number): void {
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = undefined;
      this.inFlight = this.run();
    }, Math.max(0, delay));
  }

  private async run(): Promise<void> {
    if (!this.running) return;
    try {
      await this.options.tick();
    } catch {
      // The tick owns its errors; a throw here must not end the loop.
    }
    if (!this.running) return;
    const { clock, interval } = this.options;
    const now = clock.monotonic();
    let next = this.slot + 1;
    // The first slot not yet in the past; slots strictly before now were missed.
    const due = Math.ceil((now - this.start) / interval);
    if (due > next) {
      this.options.onOverrun?.(due - next);
      next = due;
    }
    this.slot = next;
    this.arm(this.start + next * interval - now);
  }
}
