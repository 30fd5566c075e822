// Holds back repeats of the same log line: a weekend-long outage retries every minute or so,
// and one identical warning per retry fills the journal without telling the operator more.
// The first occurrence of a key is logged at once; the same key again is logged at most once
// per interval, carrying how many were held back. A different key is logged at once.

export class RepeatThrottle {
  private lastKey: string | undefined;
  private lastAt = 0;
  private held = 0;

  constructor(
    private readonly now: () => number,
    readonly intervalMs = 60_000,
  ) {}

  /**
   * undefined: hold this one back (counted). Otherwise log it, with `suppressed` occurrences
   * held back since the previous line.
   */
  hit(key: string): { suppressed: number } | undefined {
    const t = this.now();
    if (key === this.lastKey && t - this.lastAt < this.intervalMs) {
      this.held += 1;
      return undefined;
    }
    const suppressed = this.held;
    this.lastKey = key;
    this.lastAt = t;
    this.held = 0;
    return { suppressed };
  }

  /** Forgets the last key (the condition ended); returns how many were held back unlogged. */
  reset(): number {
    const held = this.held;
    this.lastKey = undefined;
    this.held = 0;
    return held;
  }
}
