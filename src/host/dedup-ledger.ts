// Which outbox records the history already holds, per (edge node, epoch) (issue 14, "exactly
// once"). The ledger changes only in memory until the store commits the batch that admitted
// the keys; the store writes `dirty()` in that same transaction, so a host killed at any point
// restarts with ranges that match its samples exactly: nothing stored twice, nothing skipped.
import type { DedupKey } from '../bridge/dedup-key.js';
import { RangeSet } from './range-set.js';

export interface StreamRow {
  node: string;
  epoch: string;
  through: number;
  ranges: string;
}

const id = (node: string, epoch: string): string => `${node}\u0000${epoch}`;

export class DedupLedger {
  private readonly streams = new Map<string, { node: string; epoch: string; set: RangeSet }>();
  private readonly changed = new Set<string>();
  /** Streams that saw a duplicate since the last `takeRepeats()`: their edge missed the ack. */
  private readonly repeats = new Set<string>();
  /** Duplicates dropped per edge node (`group/node`). */
  readonly drops = new Map<string, number>();

  constructor(rows: Iterable<StreamRow> = []) {
    this.load(rows);
  }

  /** Replaces the memory with what the store holds (at start, and after a failed commit). */
  load(rows: Iterable<StreamRow>): void {
    this.streams.clear();
    this.changed.clear();
    for (const r of rows) this.streams.set(id(r.node, r.epoch), { node: r.node, epoch: r.epoch, set: RangeSet.parse(r.through, r.ranges) });
  }

  /** True (and recorded) the first time a key is seen; a duplicate is counted and refused. */
  admit(key: DedupKey): boolean {
    const k = id(key.node, key.epoch);
    let s = this.streams.get(k);
    if (s === undefined) {
      s = { node: key.node, epoch: key.epoch, set: new RangeSet() };
      this.streams.set(k, s);
    }
    if (!s.set.add(key.seq)) {
      this.drops.set(key.node, (this.drops.get(key.node) ?? 0) + 1);
      this.repeats.add(k);
      return false;
    }
    this.changed.add(k);
    return true;
  }

  /** The streams changed since the last `clearDirty()`, as rows for the store. */
  dirty(): StreamRow[] {
    return this.rows(this.changed);
  }

  /** Rows of the streams that saw duplicates, to confirm again (docs/store-and-forward.md). */
  takeRepeats(): StreamRow[] {
    const out = this.rows(this.repeats);
    this.repeats.clear();
    return out;
  }

  private rows(keys: Iterable<string>): StreamRow[] {
    const out: StreamRow[] = [];
    for (const k of keys) {
      const s = this.streams.get(k);
      if (s !== undefined) out.push({ node: s.node, epoch: s.epoch, through: s.set.through, ranges: s.set.serialize() });
    }
    return out;
  }

  clearDirty(): void {
    this.changed.clear();
  }

  through(node: string, epoch: string): number | undefined {
    return this.streams.get(id(node, epoch))?.set.through;
  }

  totalDrops(): number {
    let n = 0;
    for (const v of this.drops.values()) n += v;
    return n;
  }
}
