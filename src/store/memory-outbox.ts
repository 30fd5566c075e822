// The outbox without a disk: for a diskless demo and as the second implementation that keeps
// the shared suite honest about what is contract and what is SQLite. Not durable.
import { newEpoch } from './database.js';
import { OutboxBase } from './outbox-base.js';
import { budgetRoom, recordBytes, type AppendResult, type DropCounters, type OutboxLimits, type OutboxRecord, type OutboxRecordInput, type OutboxStats } from './outbox.js';

export interface MemoryOutboxOptions extends OutboxLimits {
  now?: () => number;
  epoch?: string;
}

export class MemoryOutbox extends OutboxBase {
  readonly epoch: string;
  private readonly limits: OutboxLimits;
  private readonly now: () => number;
  // Held in sequence order; index 0 is the oldest. Deleting from the middle (out-of-order acks)
  // filters, which is O(n) but acks mostly land at the head.
  private rows: OutboxRecord[] = [];
  private lastSeq = 0;
  private bytes = 0;
  private readonly dropped: DropCounters = { budget: 0, age: 0, rejected: 0 };

  constructor(options: MemoryOutboxOptions) {
    super();
    this.limits = { maxBytes: options.maxBytes, maxAgeMs: options.maxAgeMs, onFull: options.onFull };
    this.now = options.now ?? Date.now;
    this.epoch = options.epoch ?? newEpoch();
  }

  append(records: readonly OutboxRecordInput[]): AppendResult {
    this.assertOpen();
    const now = this.now();
    const evictedBefore = this.dropped.budget;
    const seqs = records.map((r) => this.appendOne(r, now));
    return this.appended({ seqs, evicted: this.dropped.budget - evictedBefore });
  }

  /** Stores one record, evicting the oldest if the budget says so; null when it is refused. */
  private appendOne(r: OutboxRecordInput, now: number): number | null {
    const bytes = recordBytes(r);
    const room = budgetRoom(this.limits, this.bytes, bytes);
    if (room === 'reject') {
      this.dropped.rejected += 1;
      return null;
    }
    if (room === 'evict') this.dropped.budget += this.dropHeadWhile(() => this.bytes + bytes > this.limits.maxBytes);
    const seq = ++this.lastSeq;
    this.rows.push({
      seq,
      kind: r.kind,
      topic: r.topic,
      payload: Buffer.from(r.payload),
      qos: r.qos,
      retain: r.retain === true,
      createdAt: r.createdAt ?? now,
      bytes,
    });
    this.bytes += bytes;
    return seq;
  }

  /** Drops the oldest records while `more()` says so; returns how many. */
  private dropHeadWhile(more: (head: OutboxRecord) => boolean): number {
    let i = 0;
    while (i < this.rows.length && more(this.rows[i]!)) {
      this.bytes -= this.rows[i]!.bytes;
      i += 1;
    }
    this.rows = this.rows.slice(i);
    return i;
  }

  read(afterSeq: number, limit: number): OutboxRecord[] {
    this.assertOpen();
    const out: OutboxRecord[] = [];
    for (const r of this.rows) {
      if (out.length >= limit) break;
      if (r.seq > afterSeq) out.push(r);
    }
    return out;
  }

  ack(ranges: ReadonlyArray<readonly [number, number]>): void {
    this.assertOpen();
    this.rows = this.rows.filter((r) => {
      const acked = ranges.some(([a, b]) => r.seq >= a && r.seq <= b);
      if (acked) this.bytes -= r.bytes;
      return !acked;
    });
  }

  ackedThrough(): number {
    const head = this.rows[0];
    return head === undefined ? this.lastSeq : head.seq - 1;
  }

  expire(): number {
    this.assertOpen();
    const cutoff = this.now() - this.limits.maxAgeMs;
    const n = this.dropHeadWhile((head) => head.createdAt < cutoff);
    this.dropped.age += n;
    return n;
  }

  stats(): OutboxStats {
    this.assertOpen();
    const head = this.rows[0];
    return {
      epoch: this.epoch,
      depth: this.rows.length,
      bytes: this.bytes,
      lastSeq: this.lastSeq,
      ackedThrough: head === undefined ? this.lastSeq : head.seq - 1,
      oldestCreatedAt: head?.createdAt ?? null,
      dropped: { ...this.dropped },
    };
  }
}
