// Group commit: records enqueued in the same turn of the event loop share one transaction,
// so the fsync of `synchronous = full` is paid once per group. A record is accepted when its
// promise resolves with a sequence; until then the producer still owns it.
import type { Outbox, OutboxRecordInput } from './outbox.js';

interface Pending {
  record: OutboxRecordInput;
  resolve: (seq: number | null) => void;
  reject: (e: unknown) => void;
}

export interface AppendQueueOptions {
  /** A group never exceeds this many records; a full group commits at once. */
  maxBatch?: number;
  /**
   * `maxAge` is enforced on the append path, at most this often (default 1 s): a gateway
   * appends all the time, outage or not, so no timer of its own is needed.
   */
  expireEveryMs?: number;
  /** Monotonic milliseconds. */
  monotonic?: () => number;
}

export class AppendQueue {
  private pending: Pending[] = [];
  private scheduled: ReturnType<typeof setImmediate> | undefined;
  private readonly maxBatch: number;
  private readonly expireEveryMs: number;
  private readonly monotonic: () => number;
  private lastExpire = -Infinity;

  constructor(private readonly outbox: Outbox, options: AppendQueueOptions = {}) {
    this.maxBatch = options.maxBatch ?? 1000;
    this.expireEveryMs = options.expireEveryMs ?? 1000;
    this.monotonic = options.monotonic ?? (() => performance.now());
  }

  /** Resolves with the sequence once durable, null if `reject-new` refused it. */
  enqueue(record: OutboxRecordInput): Promise<number | null> {
    return new Promise((resolve, reject) => {
      this.pending.push({ record, resolve, reject });
      if (this.pending.length >= this.maxBatch) this.flush();
      else this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  get size(): number {
    return this.pending.length;
  }

  /** Commits everything pending now, in groups of at most `maxBatch`. */
  flush(): void {
    if (this.scheduled !== undefined) {
      clearImmediate(this.scheduled);
      this.scheduled = undefined;
    }
    const now = this.monotonic();
    if (this.pending.length > 0 && now - this.lastExpire >= this.expireEveryMs) {
      this.lastExpire = now;
      try {
        this.outbox.expire();
      } catch {
        // The append below meets the same store error and reports it to the producers.
      }
    }
    while (this.pending.length > 0) {
      const group = this.pending.splice(0, this.maxBatch);
      try {
        const { seqs } = this.outbox.append(group.map((p) => p.record));
        group.forEach((p, i) => p.resolve(seqs[i] ?? null));
      } catch (e) {
        // Disk full or I/O: none of this group is accepted; producers decide (retry, hold).
        for (const p of group) p.reject(e);
      }
    }
  }

  /** Commits what is pending; no timer stays behind. */
  close(): void {
    this.flush();
  }
}
