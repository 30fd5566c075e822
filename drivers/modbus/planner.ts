// Request planning: group the tags of one device into as few read requests as the protocol,
// the device and the operator's gap tolerance allow, and learn from the device's refusals.
// Pure (no I/O, no clock): the driver feeds it outcomes, the tests prove it without a device.
//
// Why fewer requests matter: on a 19,200 baud RS-485 line every request costs a turnaround
// and at least 3.5 character times of silence, so polling tag by tag can take ten times
// longer than one request over the same registers.

/** MODBUS Application Protocol v1.1b3 §6.3/§6.4: Quantity of Registers 1 to 125 (0x7D). */
export const MAX_REGISTERS_PER_READ = 125;
/** §6.1/§6.2: Quantity of coils / inputs 1 to 2000 (0x7D0). */
export const MAX_BITS_PER_READ = 2000;
/** Protocol addresses are 16 bits: 0..65535. */
export const ADDRESS_SPACE = 65536;

export const TABLES = ['coil', 'discrete', 'holding', 'input'] as const;
export type Table = (typeof TABLES)[number];

export function isBitTable(table: Table): boolean {
  return table === 'coil' || table === 'discrete';
}

/** One thing to read: a tag's span of registers (or bits) in one table. */
export interface PlanItem {
  id: string;
  table: Table;
  /** 0-based protocol address of the first register or bit. */
  address: number;
  /** Registers (holding/input) or bits (coil/discrete). */
  count: number;
}

export interface ReadRequest {
  table: Table;
  address: number;
  count: number;
  items: PlanItem[];
}

export interface PlanLimits {
  /** Largest register read this device accepts (≤ 125). */
  maxRegisters: number;
  /** Largest coil / discrete input read this device accepts (≤ 2000). */
  maxBits: number;
  /** Unused registers the planner may read to join two tags into one request. */
  registerGap: number;
  /** Unused bits the planner may read to join two tags into one request. */
  bitGap: number;
}

export const DEFAULT_LIMITS: PlanLimits = {
  maxRegisters: MAX_REGISTERS_PER_READ,
  maxBits: MAX_BITS_PER_READ,
  registerGap: 10,
  bitGap: 64,
};

export interface Unreadable {
  item: PlanItem;
  reason: string;
}

export interface Plan {
  requests: ReadRequest[];
  unreadable: Unreadable[];
}

/** Addresses known to be illegal on one device, per table. */
export type Holes = ReadonlyMap<Table, ReadonlySet<number>>;

function firstHoleIn(holes: ReadonlySet<number> | undefined, from: number, to: number): number | undefined {
  if (holes === undefined || holes.size === 0) return undefined;
  // Bounded by the span (≤ 2000) or by the hole count, whichever is smaller.
  if (to - from <= holes.size) {
    for (let a = from; a < to; a++) if (holes.has(a)) return a;
    return undefined;
  }
  let first: number | undefined;
  for (const h of holes) if (h >= from && h < to && (first === undefined || h < first)) first = h;
  return first;
}

/**
 * Group items into the fewest requests. Per table, items sorted by address are swept once:
 * a request grows while the next item keeps it within the size limit, the unused run before
 * that item is within the gap tolerance and crosses no known hole. Requests never overlap a
 * hole, and an item is never split across requests (a split 32-bit value could tear).
 */
export function planReads(items: readonly PlanItem[], limits: PlanLimits, holes: Holes = new Map()): Plan {
  const requests: ReadRequest[] = [];
  const unreadable: Unreadable[] = [];
  for (const table of TABLES) {
    const max = isBitTable(table) ? limits.maxBits : limits.maxRegisters;
    const gap = isBitTable(table) ? limits.bitGap : limits.registerGap;
    const tableHoles = holes.get(table);
    const sorted = items
      .filter((i) => i.table === table)
      .sort((a, b) => a.address - b.address || b.count - a.count);
    let open: ReadRequest | undefined;
    for (const item of sorted) {
      const end = item.address + item.count;
      if (item.count > max) {
        unreadable.push({ item, reason: `needs ${item.count} ${unitName(table)} in one request; the device allows ${max}` });
        continue;
      }
      const hole = firstHoleIn(tableHoles, item.address, end);
      if (hole !== undefined) {
        unreadable.push({ item, reason: `address ${hole} (${table}) is illegal on this device (exception 2)` });
        continue;
      }
      if (open !== undefined) {
        const openEnd = open.address + open.count;
        const newEnd = Math.max(openEnd, end);
        const fits =
          item.address - openEnd <= gap &&
          newEnd - open.address <= max &&
          firstHoleIn(tableHoles, openEnd, item.address) === undefined;
        if (fits) {
          open.count = newEnd - open.address;
          open.items.push(item);
          continue;
        }
      }
      open = { table, address: item.address, count: item.count, items: [item] };
      requests.push(open);
    }
  }
  return { requests, unreadable };
}

function unitName(table: Table): string {
  return isBitTable(table) ? 'bits' : 'registers';
}

/**
 * After an illegal-address exception on a request, the items are read on their own: one probe
 * per distinct span (two bit tags on one register share a probe).
 */
export function probesFor(request: ReadRequest): ReadRequest[] {
  const bySpan = new Map<string, ReadRequest>();
  for (const item of request.items) {
    const key = `${item.address}:${item.count}`;
    const probe = bySpan.get(key);
    if (probe === undefined) bySpan.set(key, { table: request.table, address: item.address, count: item.count, items: [item] });
    else probe.items.push(item);
  }
  return [...bySpan.values()];
}

/** Addresses of a request that no item covers: the padding the gap tolerance let in. */
export function uncoveredAddresses(request: ReadRequest): number[] {
  const covered = new Uint8Array(request.count);
  for (const item of request.items) {
    for (let a = item.address; a < item.address + item.count; a++) covered[a - request.address] = 1;
  }
  const out: number[] = [];
  covered.forEach((c, i) => {
    if (c === 0) out.push(request.address + i);
  });
  return out;
}

/**
 * What one device has taught the planner: holes and a lowered request size. Owned by one
 * driver instance (no module state: two gateways in one process learn separately).
 */
export class LearningPlanner {
  private limits: PlanLimits;
  private readonly holes = new Map<Table, Set<number>>();
  private cached: Plan | undefined;

  constructor(private readonly items: readonly PlanItem[], limits: PlanLimits) {
    this.limits = { ...limits };
  }

  get currentLimits(): Readonly<PlanLimits> {
    return this.limits;
  }

  holesOf(table: Table): number[] {
    return [...(this.holes.get(table) ?? [])].sort((a, b) => a - b);
  }

  plan(): Plan {
    this.cached ??= planReads(this.items, this.limits, this.holes);
    return this.cached;
  }

  /** Plan a subset (the items of one failed request) under what is known now. */
  replan(items: readonly PlanItem[]): Plan {
    return planReads(items, this.limits, this.holes);
  }

  /**
   * An illegal-address exception on `request`, after its items were probed one by one and
   * `failed` still raised it. Failing items' addresses become holes. When every item read
   * fine alone, the padding between them must hold the illegal address: it becomes holes.
   */
  learnIllegalAddress(request: ReadRequest, failed: readonly PlanItem[]): number[] {
    const learned: number[] = [];
    const add = (a: number): void => {
      let set = this.holes.get(request.table);
      if (set === undefined) {
        set = new Set();
        this.holes.set(request.table, set);
      }
      if (!set.has(a)) {
        set.add(a);
        learned.push(a);
      }
    };
    if (failed.length > 0) {
      for (const item of failed) for (let a = item.address; a < item.address + item.count; a++) add(a);
    } else {
      for (const a of uncoveredAddresses(request)) add(a);
    }
    if (learned.length > 0) this.cached = undefined;
    return learned;
  }

  /**
   * The device refused a read as too large (exception 3, illegal data value, on a request
   * longer than any of its items). Halve the device's maximum, never below the largest item
   * of the request. Returns the new maximum, or undefined when nothing can be lowered.
   */
  learnTooLarge(request: ReadRequest): number | undefined {
    const largestItem = Math.max(...request.items.map((i) => i.count));
    if (request.count <= largestItem) return undefined;
    const next = Math.max(largestItem, Math.floor(request.count / 2));
    const key = isBitTable(request.table) ? 'maxBits' : 'maxRegisters';
    if (next >= this.limits[key]) return undefined;
    this.limits = { ...this.limits, [key]: next };
    this.cached = undefined;
    return next;
  }
}
