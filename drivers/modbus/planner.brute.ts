// Test helper: the fewest requests for a set of items, by exhaustive search over every way of
// partitioning them (a bitmask DP over subsets). Deliberately shares no code with planner.ts,
// so a planner that merely agrees with itself cannot pass.
export interface BruteItem {
  table: string;
  address: number;
  count: number;
}

export interface BruteLimits {
  maxRegisters: number;
  maxBits: number;
  registerGap: number;
  bitGap: number;
}

function isBits(table: string): boolean {
  return table === 'coil' || table === 'discrete';
}

/** Can these items be read together in one request? */
function feasible(group: BruteItem[], limits: BruteLimits, holes: Map<string, Set<number>>): boolean {
  const table = group[0]?.table;
  if (table === undefined || group.some((g) => g.table !== table)) return false;
  const max = isBits(table) ? limits.maxBits : limits.maxRegisters;
  const gap = isBits(table) ? limits.bitGap : limits.registerGap;
  const start = Math.min(...group.map((g) => g.address));
  const end = Math.max(...group.map((g) => g.address + g.count));
  if (end - start > max) return false;
  const covered = new Array<boolean>(end - start).fill(false);
  for (const g of group) for (let a = g.address; a < g.address + g.count; a++) covered[a - start] = true;
  let run = 0;
  for (let i = 0; i < covered.length; i++) {
    if (holes.get(table)?.has(start + i) === true) return false;
    if (covered[i] === true) run = 0;
    else if (++run > gap) return false;
  }
  return true;
}

/** Minimum number of requests over readable items; Infinity if some item fits nowhere. */
export function minimumRequests(items: BruteItem[], limits: BruteLimits, holes = new Map<string, Set<number>>()): number {
  const n = items.length;
  if (n > 12) throw new Error('brute force is for small sets');
  const ok = new Array<boolean>(1 << n);
  for (let m = 1; m < 1 << n; m++) ok[m] = feasible(items.filter((_, i) => (m >> i) & 1), limits, holes);
  const dp = new Array<number>(1 << n).fill(Infinity);
  dp[0] = 0;
  for (let m = 1; m < 1 << n; m++) {
    const low = m & -m;
    // Every subset of m that holds m's lowest item.
    for (let s = m; s > 0; s = (s - 1) & m) {
      if ((s & low) !== 0 && ok[s] === true) dp[m] = Math.min(dp[m] ?? Infinity, (dp[m ^ s] ?? Infinity) + 1);
    }
  }
  return dp[(1 << n) - 1] ?? Infinity;
}
