// One dedup stream's memory of which sequences it has seen: the highest gap-free sequence
// (`through`) plus the ranges seen above it (docs/dedup.md). The rule is shared by the reference
// deduper (src/bridge/deduper.ts) and the host's persistent ledger (src/host/range-set.ts), so
// both keep exactly the same state for the same arrivals (issue 16: one copy of the algorithm).
export type Range = [number, number];

export interface SeqRanges {
  /** Every sequence at or below this was seen. */
  through: number;
  /** Seen ranges above `through + 1`, sorted, disjoint, not adjacent. */
  ranges: Range[];
}

/** Index of the first range whose end is >= seq - 1 (binary search). */
function search(ranges: readonly Range[], seq: number): number {
  let lo = 0;
  let hi = ranges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((ranges[mid] as Range)[1] < seq - 1) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function hasSeq(s: SeqRanges, seq: number): boolean {
  if (seq <= s.through) return true;
  const at = s.ranges[search(s.ranges, seq)];
  return at !== undefined && seq >= at[0] && seq <= at[1];
}

/** Records `seq`; true the first time it is seen, false for a duplicate. */
export function addSeq(s: SeqRanges, seq: number): boolean {
  if (seq <= s.through) return false;
  const r = s.ranges;
  const lo = search(r, seq);
  const at = r[lo];
  if (at !== undefined && seq >= at[0] && seq <= at[1]) return false;
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
  absorbHead(s);
  return true;
}

/** Folds the first range into `through` when it starts right above it. */
export function absorbHead(s: SeqRanges): void {
  const head = s.ranges[0];
  if (head !== undefined && head[0] <= s.through + 1) {
    s.through = Math.max(s.through, head[1]);
    s.ranges.shift();
  }
}
