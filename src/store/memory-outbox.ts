// The outbox without a disk: for a diskless demo and as the second implementation that keeps
// the shared suite honest about what is contract and what is SQLite. Not durable.
import { FieldgateError } from '../errors.js';
import { newEpoch } from './database.js';
import {
  recordBytes,
  type AppendResult,
  type DropCounters,
  type Outbox,
  type OutboxLimits,
  type OutboxRecord,
  type OutboxRecordInput,
  type OutboxStats,
} from './outbox.js';

export interface MemoryOutboxOptions extends OutboxLimits {
  now?: () => number;
  epoch?: string;
}

export class MemoryOutbox implements Outbox {
  readonly epoch: string;
  private readonly limits: OutboxLimits;
  private readonly now: () => number;
  // Held in sequence order; index 0 is the oldest. Deleting from the middle (out-of-order acks)
  // filters, which is O(n) but acks mostly land at the head.
  private rows: OutboxRecord[] = [];
  private lastSeq = 0;
  private bytes = 0;
  private readonly dropped: DropCounters = { budget: 0, age: 0, rejected: 0 };
  private readonly listeners = new Set<() => void>();
  private closed = false;

  constructor(options: MemoryOutboxOptions) {
    this.limits = { maxBytes: options.maxBytes, maxAgeMs: options.maxAgeMs, onFull: options.onFull };
    this.now = options.now ?? Date.now;
    this.epoch = options.epoch ?? newEpoch();
  }

  append(records: readonly OutboxRecordInput[]): AppendResult {
    this.assertOpen();
    const seqs: Array<number | null> = [];
    let evicted = 0;
    const now = this.now();
    for (const r of records) {
      const bytes = recordBytes(r);
      if (this.bytes + bytes > this.limits.maxBytes) {
        if (this.limits.onFull === 'reject-new' || bytes > this.limits.maxBytes) {
          this.dropped.rejected += 1;
          seqs.push(null);
          continue;
        }
        let i = 0;
        while (i < this.rows.length && this.bytes + bytes > this.limits.maxBytes) {
          this.bytes -= this.rows[i]?.bytes ?? 0;
          i += 1;
        }
        this.rows = this.rows.slice(i);
        evicted += i;
        this.dropped.budget += i;
      }
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
      seqs.push(seq);
    }
    if (seqs.some((s) => s !== null)) for (const l of this.listeners) l();
    return { seqs, evicted };
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

  ackThrough(seq: number): void {
    this.ack([[0, seq]]);
  }

  ackedThrough(): number {
    const head = this.rows[0];
    return head === undefined ? this.lastSeq : head.seq - 1;
  }

  expire(): number {
    this.assertOpen();
    const cutoff = this.now() - this.limits.maxAgeMs;
    let i = 0;
    while (i < this.rows.length && (this.rows[i]?.createdAt ?? Infinity) < cutoff) {
      this.bytes -= this.rows[i]?.bytes ?? 0;
      i += 1;
    }
    this.rows = this.rows.slice(i);
    this.dropped.age += i;
    return i;
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

  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.closed = true;
    this.listeners.clear();
  }

  private assertOpen(): void {
    if (this.closed) throw new FieldgateError('FG_ERR_STORE_CLOSED', 'the outbox is closed');
  }
}
