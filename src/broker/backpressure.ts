// Publisher backpressure (the aedes idea, issue 3 "nothing is lost"): when a connected
// subscriber's queue passes its high-water mark, the publishers feeding it stop being read
// until it drains below the low-water mark. A stall is bounded in time, so a cycle of clients
// publishing to each other cannot deadlock; after that the per-client queue bound applies.

export const MAX_STALL_MS = 1000;

export interface Congestion {
  /** Called once when the congestion clears (or the subscriber goes away). */
  onClear(resume: () => void): void;
}

export class Watermarks {
  private readonly waiters = new Set<() => void>();
  /**
   * Set when a stall on this subscriber ran out (MAX_STALL_MS) without it draining: it is not
   * keeping up at all, so it stops slowing its publishers and its own queue drops by policy
   * until it drains below the low-water mark (issue 18 item 7: it costs only itself).
   */
  stuck = false;

  constructor(private readonly high: number, private readonly low: number) {}

  static forQueue(maxQueued: number): Watermarks {
    const high = Math.max(1, Math.floor(maxQueued / 2));
    return new Watermarks(high, Math.floor(high / 2));
  }

  isCongested(queued: number): boolean {
    return !this.stuck && queued >= this.high;
  }

  offClear(resume: () => void): void {
    this.waiters.delete(resume);
  }

  onClear(resume: () => void): void {
    this.waiters.add(resume);
  }

  /** Wakes the waiting publishers once the queue is back under the low-water mark. */
  update(queued: number): void {
    if (queued <= this.low) {
      this.stuck = false;
      this.release();
    }
  }

  release(): void {
    if (this.waiters.size === 0) return;
    const all = [...this.waiters];
    this.waiters.clear();
    for (const resume of all) resume();
  }
}
