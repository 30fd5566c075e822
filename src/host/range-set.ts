// The persistent form of one (edge node, outbox epoch) dedup stream: the highest gap-free
// outbox sequence (`through`, what the confirmation carries) plus the ranges seen above it.
// The same rule as the reference deduper (src/bridge/deduper.ts, docs/dedup.md), with a
// serialised form so it commits in the same transaction as the samples it admits (issue 14).
export type Range = [number, number];

export class RangeSet {
  constructor(
    public through = 0,
    /** Seen ranges above `through + 1`, sorted, disjoint, not adjacent. */
    public ranges: Range[] = [],
  ) {}

  static parse(through: number, json: string): RangeSet {
    const r = JSON.parse(json) as unknown;
    const ranges = Array.isArray(r) ? (r as Range[]).filter((x) => Array.isArray(x) && x.length === 2).map((x): Range => [Number(x[0]), Number(x[1])]) : [];
    return new RangeSet(through, ranges);
  }

  serialize(): string {
    return JSON.stringify(this.ranges);
  }

  clone(): RangeSet {
    return new RangeSet(this.through, this.ranges.map((r): Range => [r[0], r[1]]));
  }

  has(seq: number): boolean {
    if (seq <= this.through) return true;
    const i = this.search(seq);
    const at = this.ranges[i];
    return at !== undefined && seq >= at[0] && seq <= at[1];
  }

  /** Index of the first range whose end is >= seq - 1. */
  private search(seq: number): number {
    const r = this.ranges;
    let lo = 0;
    let hi = r.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((r[mid] as Range)[1] < seq - 1) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** True the first time `seq` is added. */
  add(seq: number): boolean {
    if (this.has(seq)) return false;
    const r = this.ranges;
    const lo = this.search(seq);
    const at = r[lo];
    if (at !== undefined && at[1] === seq - 1) {
      at[1] = seq;
      const next = r[lo + 1];
      if (next !== undefined && next[0] === seq + 1) {
        at[1] = next[1];
        r.splice(lo + 1, 1);
      }
    } else if (at !== undefined && at[0] === seq + 1) {
      at[0] = seq;
    } else {
      r.splice(lo, 0, [seq, seq]);
    }
    const head = r[0];
    if (head !== undefined && head[0] <= this.through + 1) {
      this.through = Math.max(this.through, head[1]);
      r.shift();
    }
    return true;
  }
}
