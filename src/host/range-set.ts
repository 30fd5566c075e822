// The persistent form of one (edge node, outbox epoch) dedup stream: the highest gap-free
// outbox sequence (`through`, what the confirmation carries) plus the ranges seen above it.
// The same rule as the reference deduper (src/shared/seq-ranges.ts, docs/dedup.md), with a
// serialised form so it commits in the same transaction as the samples it admits (issue 14).
import { addSeq, hasSeq, type Range } from '../shared/seq-ranges.js';

export type { Range };

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
    return hasSeq(this, seq);
  }

  /** True the first time `seq` is added. */
  add(seq: number): boolean {
    return addSeq(this, seq);
  }
}
