// Time is injected so that scheduling, heartbeats and backoff are testable without sleeping.

export type TimerHandle = { readonly id: number } | ReturnType<typeof setTimeout>;

export interface Clock {
  /** Milliseconds since the Unix epoch (wall clock, used for timestamps). */
  now(): number;
  /** Monotonic milliseconds (used for scheduling, immune to NTP steps). */
  monotonic(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

interface Pending {
  id: number;
  at: number;
  fn: () => void;
}

/**
 * A clock that moves only when told to. `advance(ms)` runs every timer that falls due, in
 * order, letting promise continuations settle between timers so async loops progress as they
 * would in real time.
 */
export class ManualClock implements Clock {
  private t: number;
  private readonly epoch: number;
  private nextId = 1;
  private pending: Pending[] = [];

  constructor(startEpochMs = 1_700_000_000_000) {
    this.epoch = startEpochMs;
    this.t = 0;
  }

  now(): number {
    return this.epoch + this.t;
  }

  monotonic(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const p = { id: this.nextId++, at: this.t + Math.max(0, ms), fn };
    this.pending.push(p);
    return { id: p.id };
  }

  clearTimeout(handle: TimerHandle): void {
    const id = (handle as { id: number }).id;
    this.pending = this.pending.filter((p) => p.id !== id);
  }

  get timerCount(): number {
    return this.pending.length;
  }

  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    for (;;) {
      await flushMicrotasks();
      this.pending.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.pending[0];
      if (next === undefined || next.at > target) break;
      this.pending.shift();
      this.t = next.at;
      next.fn();
    }
    this.t = target;
    await flushMicrotasks();
  }
}

async function flushMicrotasks(): Promise<void> {
  // A few macrotask turns let chains of awaits (driver → supervisor → runtime) settle.
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}
