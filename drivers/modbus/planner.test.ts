import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LIMITS, LearningPlanner, MAX_BITS_PER_READ, MAX_REGISTERS_PER_READ, planReads, probesFor, TABLES,
  type Plan, type PlanItem, type PlanLimits, type Table,
} from './planner.js';
import { minimumRequests } from './planner.brute.js';

const NO_GAP: PlanLimits = { ...DEFAULT_LIMITS, registerGap: 0, bitGap: 0 };

function regs(table: Table, ...spans: Array<[number, number]>): PlanItem[] {
  return spans.map(([address, count]) => ({ id: `${table}@${address}/${count}`, table, address, count }));
}
function range(table: Table, from: number, n: number, count = 1, step = count): PlanItem[] {
  return Array.from({ length: n }, (_, i) => ({ id: `${table}#${i}`, table, address: from + i * step, count }));
}

/** Every readable item sits wholly inside exactly one request, and every request obeys the limits. */
function checkWellFormed(items: PlanItem[], plan: Plan, limits: PlanLimits, holes: Map<Table, Set<number>>): void {
  for (const r of plan.requests) {
    const bits = r.table === 'coil' || r.table === 'discrete';
    expect(r.count).toBeLessThanOrEqual(bits ? limits.maxBits : limits.maxRegisters);
    expect(r.count).toBeGreaterThan(0);
    for (let a = r.address; a < r.address + r.count; a++) expect(holes.get(r.table)?.has(a) ?? false).toBe(false);
    for (const i of r.items) {
      expect(i.table).toBe(r.table);
      expect(i.address).toBeGreaterThanOrEqual(r.address);
      expect(i.address + i.count).toBeLessThanOrEqual(r.address + r.count);
    }
  }
  const placed = plan.requests.flatMap((r) => r.items).concat(plan.unreadable.map((u) => u.item));
  expect(placed.map((i) => i.id).sort()).toEqual(items.map((i) => i.id).sort());
}

interface Case {
  name: string;
  items: PlanItem[];
  limits?: Partial<PlanLimits>;
  holes?: Array<[Table, number[]]>;
  /** Worked out by hand; the brute force must agree, and so must the planner. */
  requests: number;
  unreadable?: number;
}

const cases: Case[] = [
  { name: 'one register', items: regs('holding', [0, 1]), requests: 1 },
  { name: 'ten adjacent registers', items: range('holding', 0, 10), requests: 1 },
  { name: 'adjacent float32s', items: range('holding', 100, 8, 2), requests: 1 },
  { name: 'gap of 3 within tolerance 3', items: regs('holding', [0, 1], [4, 1]), limits: { registerGap: 3 }, requests: 1 },
  { name: 'gap of 4 beyond tolerance 3', items: regs('holding', [0, 1], [5, 1]), limits: { registerGap: 3 }, requests: 2 },
  { name: 'no gap tolerance splits at each hole', items: regs('holding', [0, 2], [3, 2], [6, 2]), limits: { registerGap: 0 }, requests: 3 },
  { name: 'exactly 125 registers', items: range('holding', 0, 125), requests: 1 },
  { name: '126 registers need two', items: range('holding', 0, 126), requests: 2 },
  { name: '250 registers need two', items: range('holding', 0, 250), requests: 2 },
  { name: '251 registers need three', items: range('input', 0, 251), requests: 3 },
  { name: 'float64 that would straddle 125 starts a new request', items: range('holding', 0, 32, 4), requests: 2 },
  { name: 'string of 125 registers alone', items: regs('holding', [0, 125]), requests: 1 },
  { name: 'string of 126 registers is unreadable', items: regs('holding', [0, 126], [200, 1]), requests: 1, unreadable: 1 },
  { name: '2000 coils in one request', items: range('coil', 0, 2000), requests: 1 },
  { name: '2001 coils need two', items: range('coil', 0, 2001), requests: 2 },
  { name: 'discrete inputs with bit gaps', items: regs('discrete', [0, 1], [60, 1], [200, 1]), limits: { bitGap: 64 }, requests: 2 },
  { name: 'mixed tables never share a request', items: [...regs('holding', [0, 1]), ...regs('input', [0, 1]), ...regs('coil', [0, 1]), ...regs('discrete', [0, 1])], requests: 4 },
  { name: 'same addresses in holding and input', items: [...range('holding', 10, 5), ...range('input', 10, 5)], requests: 2 },
  { name: 'unsorted input', items: regs('holding', [9, 1], [0, 1], [5, 2], [2, 3]), limits: { registerGap: 0 }, requests: 3 },
  { name: 'overlapping tags (bits of one register)', items: [...regs('holding', [7, 1], [7, 1], [7, 1]), ...regs('holding', [7, 2])], requests: 1 },
  { name: 'long tag containing short ones', items: regs('holding', [0, 20], [3, 1], [10, 2], [19, 1]), limits: { registerGap: 0 }, requests: 1 },
  { name: 'device max 10 over 25 registers', items: range('holding', 0, 25), limits: { maxRegisters: 10 }, requests: 3 },
  { name: 'device max 3 with float32s', items: range('holding', 0, 6, 2), limits: { maxRegisters: 3 }, requests: 6 },
  { name: 'device max 4 with float32s', items: range('holding', 0, 6, 2), limits: { maxRegisters: 4 }, requests: 3 },
  { name: 'device max 1 makes a float32 unreadable', items: regs('holding', [0, 2], [5, 1]), limits: { maxRegisters: 1 }, requests: 1, unreadable: 1 },
  { name: 'coil max 16', items: range('coil', 0, 40), limits: { maxBits: 16 }, requests: 3 },
  { name: 'hole in the gap splits', items: regs('holding', [0, 1], [3, 1]), limits: { registerGap: 5 }, holes: [['holding', [2]]], requests: 2 },
  { name: 'hole on a tag makes it unreadable', items: regs('holding', [0, 1], [1, 1], [2, 1]), holes: [['holding', [1]]], requests: 2, unreadable: 1 },
  { name: 'hole in another table is ignored', items: range('holding', 0, 4), holes: [['input', [1, 2]]], requests: 1 },
  { name: 'sparse map, tolerance joins nearby clusters', items: regs('input', [0, 2], [8, 2], [30, 2], [35, 2], [100, 4]), limits: { registerGap: 6 }, requests: 3 },
  { name: 'top of the address space', items: regs('holding', [65530, 2], [65534, 2]), requests: 1 },
  { name: 'odd sizes 3 and 5 against max 7', items: regs('holding', [0, 3], [3, 5], [8, 3], [11, 5]), limits: { maxRegisters: 7, registerGap: 0 }, requests: 4 },
  { name: 'empty', items: [], requests: 0 },
];

describe('planner: request count equals the proven minimum', () => {
  it('has at least 30 named cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  for (const c of cases) {
    it(c.name, () => {
      const limits = { ...DEFAULT_LIMITS, ...c.limits };
      const holes = new Map((c.holes ?? []).map(([t, a]) => [t, new Set(a)]));
      const plan = planReads(c.items, limits, holes);
      checkWellFormed(c.items, plan, limits, holes);
      expect(plan.unreadable.length).toBe(c.unreadable ?? 0);
      expect(plan.requests.length).toBe(c.requests);
      const readable = c.items.filter((i) => !plan.unreadable.some((u) => u.item === i));
      // The brute force is exponential: prove minimality on the small cases, and on the large
      // ones check the hand count against the obvious lower bound ceil(span / max).
      if (readable.length <= 12) {
        expect(minimumRequests(readable, limits, holes)).toBe(c.requests);
      } else {
        const perTable = TABLES.map((t) => readable.filter((i) => i.table === t)).filter((g) => g.length > 0);
        const bound = perTable.reduce((sum, g) => {
          const bits = g[0]?.table === 'coil' || g[0]?.table === 'discrete';
          const span = Math.max(...g.map((i) => i.address + i.count)) - Math.min(...g.map((i) => i.address));
          return sum + Math.ceil(span / (bits ? limits.maxBits : limits.maxRegisters));
        }, 0);
        expect(c.requests).toBe(bound);
      }
    });
  }

  it('matches the brute-force minimum on 2,000 seeded random maps', () => {
    let seed = 20261123;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let total = 0;
    for (let k = 0; k < 2000; k++) {
      const limits = { maxRegisters: 2 + rnd(12), maxBits: 3 + rnd(20), registerGap: rnd(4), bitGap: rnd(6) };
      const items: PlanItem[] = Array.from({ length: 1 + rnd(8) }, (_, i) => {
        const table = TABLES[rnd(4)] ?? 'holding';
        const bits = table === 'coil' || table === 'discrete';
        return { id: `t${i}`, table, address: rnd(30), count: bits ? 1 : ([1, 1, 2, 4, 3][rnd(5)] ?? 1) };
      });
      const holes = new Map<Table, Set<number>>();
      if (rnd(3) === 0) holes.set('holding', new Set([rnd(30), rnd(30)]));
      const plan = planReads(items, limits, holes);
      checkWellFormed(items, plan, limits, holes);
      const readable = items.filter((i) => !plan.unreadable.some((u) => u.item === i));
      expect(plan.requests.length, JSON.stringify({ items, limits })).toBe(minimumRequests(readable, limits, holes));
      total += plan.requests.length;
    }
    expect(total).toBeGreaterThan(2000); // the maps are not trivially one request each
  });

  it('names the protocol limits', () => {
    expect(MAX_REGISTERS_PER_READ).toBe(125);
    expect(MAX_BITS_PER_READ).toBe(2000);
  });
});

describe('planner learning', () => {
  it('an illegal hole in the padding splits the request and is remembered', () => {
    const items = regs('holding', [0, 2], [4, 2]);
    const p = new LearningPlanner(items, { ...DEFAULT_LIMITS, registerGap: 5 });
    const [req] = p.plan().requests;
    expect(p.plan().requests).toHaveLength(1);
    if (req === undefined) throw new Error('no request');
    // The driver probes each item alone; both read fine, so the padding (2, 3) is the hole.
    expect(probesFor(req).map((r) => [r.address, r.count])).toEqual([[0, 2], [4, 2]]);
    expect(p.learnIllegalAddress(req, [])).toEqual([2, 3]);
    expect(p.holesOf('holding')).toEqual([2, 3]);
    const next = p.plan().requests.map((r) => [r.address, r.count]);
    expect(next).toEqual([[0, 2], [4, 2]]);
    // Learning the same thing twice changes nothing.
    expect(p.learnIllegalAddress(req, [])).toEqual([]);
  });

  it('an item that fails alone becomes unreadable and the rest stay grouped', () => {
    const items = range('holding', 0, 5);
    const p = new LearningPlanner(items, NO_GAP);
    const req = p.plan().requests[0];
    if (req === undefined) throw new Error('no request');
    const bad = items[2];
    if (bad === undefined) throw new Error('no item');
    p.learnIllegalAddress(req, [bad]);
    const plan = p.plan();
    expect(plan.unreadable.map((u) => u.item.id)).toEqual([bad.id]);
    expect(plan.unreadable[0]?.reason).toMatch(/address 2 \(holding\) is illegal/);
    expect(plan.requests.map((r) => [r.address, r.count])).toEqual([[0, 2], [3, 2]]);
  });

  it('a device that caps request size gets its maximum halved until requests pass', () => {
    const items = range('holding', 0, 100);
    const p = new LearningPlanner(items, NO_GAP);
    const deviceCap = 30; // the device answers exception 3 above this
    let rounds = 0;
    for (;;) {
      const tooBig = p.plan().requests.find((r) => r.count > deviceCap);
      if (tooBig === undefined) break;
      expect(p.learnTooLarge(tooBig)).toBeDefined();
      if (++rounds > 10) throw new Error('did not converge');
    }
    // 100 → 50 → 25: three rounds would be one too many; 125 is never reached by a halving.
    expect(p.currentLimits.maxRegisters).toBe(25);
    expect(rounds).toBe(2);
    expect(p.plan().requests).toHaveLength(4);
  });

  it('never lowers the maximum below the largest item, nor for a single-item request', () => {
    const p = new LearningPlanner(regs('holding', [0, 4], [4, 4]), NO_GAP);
    const req = p.plan().requests[0];
    if (req === undefined) throw new Error('no request');
    expect(p.learnTooLarge(req)).toBe(4);
    const single = p.plan().requests[0];
    if (single === undefined) throw new Error('no request');
    expect(single.count).toBe(4);
    expect(p.learnTooLarge(single)).toBeUndefined();
    expect(p.currentLimits.maxRegisters).toBe(4);
  });
});
