// Token bucket for the backlog replay (`upstream.replay.rate`). Live data does not go through
// it. Time comes from the injected clock so tests do not sleep.
import type { Clock } from '../shared/clock.js';

export interface PacerRate {
  unit: 'messages' | 'bytes';
  /** 0 = unpaced. */
  perSecond: number;
}

export class Pacer {
  private tokens: number;
  private last: number;
  private readonly capacity: number;

  constructor(private readonly rate: PacerRate, private readonly clock: Clock) {
    // A tenth of a second of burst: a few records per timer, not a second's worth at once
    // right after a reconnect.
    this.capacity = Math.max(1, rate.perSecond / 10);
    this.tokens = this.capacity;
    this.last = clock.monotonic();
  }

  get unpaced(): boolean {
    return this.rate.perSecond <= 0;
  }

  /** Cost of one record in this pacer's unit. */
  cost(bytes: number): number {
    return this.rate.unit === 'messages' ? 1 : bytes;
  }

  /** Takes `cost` tokens if available now. A record bigger than the bucket passes when it is full. */
  tryTake(cost: number): boolean {
    if (this.unpaced) return true;
    this.refill();
    const need = Math.min(cost, this.capacity);
    if (this.tokens < need) return false;
    this.tokens -= need;
    return true;
  }

  /** Milliseconds until `cost` tokens are available. */
  waitMs(cost: number): number {
    if (this.unpaced) return 0;
    this.refill();
    const need = Math.min(cost, this.capacity) - this.tokens;
    return need <= 0 ? 0 : Math.ceil((need / this.rate.perSecond) * 1000);
  }

  private refill(): void {
    const now = this.clock.monotonic();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.rate.perSecond);
    this.last = now;
  }
}
