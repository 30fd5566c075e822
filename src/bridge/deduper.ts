// The reference deduper a central consumer runs (and the tests use). Per node and epoch it
// keeps the highest gap-free sequence seen plus the ranges seen above it: with the stream in
// order that is exactly "drop anything at or below the highest sequence seen"; the ranges make
// it stay exact when live data is sent ahead of the backlog (docs/dedup.md).
import type { DedupKey } from './dedup-key.js';

interface Stream {
  /** Every sequence at or below this was seen (or given up on, see maxGaps). */
  through: number;
  /** Seen ranges above `through + 1`, sorted, disjoint, not adjacent. */
  ranges: Array<[number, number]>;
}

export interface DeduperOptions {
  /**
   * Memory bound per stream. When more separate ranges are open, the lowest gap is treated as
   * seen (a record that arrives into it later would be dropped) and `forcedGaps` counts it.
   */
  maxRanges?: number;
}

export class Deduper {
  private readonly streams = new Map<string, Stream>();
  private readonly maxRanges: number;
  accepted = 0;
  dropped = 0;
  forcedGaps = 0;

  constructor(options: DeduperOptions = {}) {
    this.maxRanges = options.maxRanges ?? 10_000;
  }

  /** True the first time a key is seen, false for every duplicate. */
  accept(key: DedupKey): boolean {
    const id = `${key.node}\u0000${key.epoch}`;
    let s = this.streams.get(id);
    if (s === undefined) {
      // Sequences start at 1 in every epoch. A consumer that joins mid-stream keeps one open
      // range above a gap that never fills: one entry of memory, and order-independent, so a
      // live record seen first does not shadow the backlog below it.
      s = { through: 0, ranges: [] };
      this.streams.set(id, s);
    }
    const ok = insert(s, key.seq);
    if (ok) {
      this.accepted += 1;
      while (s.ranges.length > this.maxRanges) {
        const first = s.ranges.shift() as [number, number];
        s.through = first[1];
        this.forcedGaps += 1;
        absorb(s);
      }
    } else this.dropped += 1;
    return ok;
  }

  /** Highest gap-free sequence per stream, for a consumer that persists its position. */
  highWater(node: string, epoch: string): number | undefined {
    return this.streams.get(`${node}\u0000${epoch}`)?.through;
  }
}

function insert(s: Stream, seq: number): boolean {
  if (seq <= s.through) return false;
  const r = s.ranges;
  // Binary search for the first range whose end is >= seq - 1.
  let lo = 0;
  let hi = r.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((r[mid] as [number, number])[1] < seq - 1) lo = mid + 1;
    else hi = mid;
  }
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
  absorb(s);
  return true;
}

function absorb(s: Stream): void {
  const head = s.ranges[0];
  if (head !== undefined && head[0] <= s.through + 1) {
    s.through = Math.max(s.through, head[1]);
    s.ranges.shift();
  }
}
