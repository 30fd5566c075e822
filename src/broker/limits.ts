// Connection rate per source address: a token bucket per address, bounded in count.

const MAX_TRACKED = 10_000;

export class ConnectionRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly perSecond: number, private readonly now: () => number) {}

  allow(address: string): boolean {
    if (this.perSecond <= 0) return true;
    const now = this.now();
    let b = this.buckets.get(address);
    if (b === undefined) {
      if (this.buckets.size >= MAX_TRACKED) this.prune(now);
      b = { tokens: this.perSecond, at: now };
      this.buckets.set(address, b);
    }
    b.tokens = Math.min(this.perSecond, b.tokens + ((now - b.at) * this.perSecond) / 1000);
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Forgets addresses whose bucket has refilled: they behave as new ones. */
  private prune(now: number): void {
    for (const [addr, b] of this.buckets) {
      if (b.tokens + ((now - b.at) * this.perSecond) / 1000 >= this.perSecond) this.buckets.delete(addr);
    }
    if (this.buckets.size >= MAX_TRACKED) this.buckets.clear();
  }

  clear(): void {
    this.buckets.clear();
  }
}
