// The outbox in SQLite. One row per record keyed by its sequence (INTEGER PRIMARY KEY is the
// 64-bit rowid); one state row with the last sequence, the acknowledged high-water mark and the
// drop counters, written in the same transaction as the rows it describes.
import type { Logger } from '../observe/logger.js';
import { silentLogger } from '../observe/logger.js';
import type { StoreFaultSink } from './store-faults.js';
import { FieldgateError } from '../errors.js';
import type { SqliteDatabase } from './database.js';
import { translateOutboxError } from './outbox-errors.js';
import { BudgetLog, type BudgetDrop } from './budget-log.js';
import { OutboxReader } from './outbox-reader.js';
import { OutboxBase } from './outbox-base.js';
import { budgetRoom, recordBytes, type AppendResult, type DropCounters, type OutboxLimits, type OutboxRecord, type OutboxRecordInput, type OutboxStats } from './outbox.js';

export { OUTBOX_MIGRATIONS, OUTBOX_OWNER } from './outbox-schema.js';

interface State {
  lastSeq: number;
  ackedThrough: number;
  depth: number;
  bytes: number;
  dropped: DropCounters;
}

export interface SqliteOutboxOptions extends OutboxLimits {
  db: SqliteDatabase;
  epoch: string;
  now?: () => number;
  logger?: Logger;
  /** The budget warning's summaries come at most this often (default 60 s). */
  budgetLogIntervalMs?: number;
  /** Told of every failed and successful write: the store's one answer to a full disk (issue 19). */
  faults?: StoreFaultSink;
}

const EVICT_CHUNK = 256;

export class SqliteOutbox extends OutboxBase {
  readonly epoch: string;
  private readonly db: SqliteDatabase;
  private readonly limits: OutboxLimits;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly budgetLog: BudgetLog;
  /** What the append in progress dropped; reported only once its transaction committed. */
  private readonly drop: BudgetDrop = { evicted: 0, evictedBytes: 0, oldestSeq: 0, newestSeq: 0, rejected: 0, rejectedBytes: 0 };
  private state: State;
  private readonly reader: OutboxReader;
  private readonly faults: StoreFaultSink | undefined;
  private readonly stmt;
  private readonly appendTx: (records: readonly OutboxRecordInput[], s: State) => AppendResult;
  private readonly ackTx: (ranges: ReadonlyArray<readonly [number, number]>, s: State) => void;
  private readonly expireTx: (cutoff: number, s: State) => number;

  constructor(options: SqliteOutboxOptions) {
    super();
    this.db = options.db;
    this.epoch = options.epoch;
    this.limits = { maxBytes: options.maxBytes, maxAgeMs: options.maxAgeMs, onFull: options.onFull };
    this.now = options.now ?? Date.now;
    this.faults = options.faults;
    this.log = options.logger ?? silentLogger();
    this.budgetLog = new BudgetLog(this.log, this.now, { onFull: options.onFull, maxBytes: options.maxBytes, epoch: options.epoch }, options.budgetLogIntervalMs);
    const db = this.db;
    this.stmt = {
      insert: db.prepare('INSERT INTO outbox (seq, kind, topic, payload, qos, retain, created_at, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      head: db.prepare('SELECT seq, bytes, created_at FROM outbox ORDER BY seq LIMIT ?'),
      oldest: db.prepare('SELECT created_at FROM outbox ORDER BY seq LIMIT 1'),
      minSeq: db.prepare('SELECT MIN(seq) AS s FROM outbox'),
      rangeSum: db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b FROM outbox WHERE seq BETWEEN ? AND ?'),
      deleteRange: db.prepare('DELETE FROM outbox WHERE seq BETWEEN ? AND ?'),
      totals: db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b FROM outbox'),
      readState: db.prepare('SELECT last_seq, acked_through, dropped_budget, dropped_age, rejected FROM outbox_state WHERE id = 1'),
      writeState: db.prepare('UPDATE outbox_state SET last_seq = ?, acked_through = ?, dropped_budget = ?, dropped_age = ?, rejected = ? WHERE id = 1'),
    };
    this.reader = new OutboxReader(db);
    this.state = this.loadState();
    // Each mutation works on a copy of the state and the copy replaces the live one only after
    // COMMIT: a failed transaction (disk full) leaves memory and file in agreement.
    this.appendTx = db.transaction((records, s) => this.appendIn(records, s));
    this.ackTx = db.transaction((ranges, s) => this.ackIn(ranges, s));
    this.expireTx = db.transaction((cutoff, s) => this.expireIn(cutoff, s));
  }

  append(records: readonly OutboxRecordInput[]): AppendResult {
    this.assertOpen();
    if (records.length === 0) return { seqs: [], evicted: 0 };
    const s = cloneState(this.state);
    resetDrop(this.drop);
    const result = this.guard('append', () => this.appendTx(records, s));
    this.state = s;
    if (this.drop.evicted > 0 || this.drop.rejected > 0) this.budgetLog.note(this.drop);
    return this.appended(result);
  }

  read(afterSeq: number, limit: number): OutboxRecord[] {
    this.assertOpen();
    return this.guard('read', () => this.reader.read(afterSeq, limit));
  }

  ack(ranges: ReadonlyArray<readonly [number, number]>): void {
    this.assertOpen();
    if (ranges.length === 0) return;
    const s = cloneState(this.state);
    this.guard('ack', () => this.ackTx(ranges, s));
    this.state = s;
  }

  ackedThrough(): number {
    return this.state.ackedThrough;
  }

  expire(): number {
    this.assertOpen();
    const s = cloneState(this.state);
    const n = this.guard('expire', () => this.expireTx(this.now() - this.limits.maxAgeMs, s));
    this.state = s;
    if (n > 0) this.log.warn({ dropped: n, maxAgeMs: this.limits.maxAgeMs, epoch: this.epoch }, 'outbox: records older than maxAge dropped unsent');
    return n;
  }

  stats(): OutboxStats {
    this.assertOpen();
    const oldest = this.stmt.oldest.get() as { created_at: number } | undefined;
    const s = this.state;
    return {
      epoch: this.epoch,
      depth: s.depth,
      bytes: s.bytes,
      lastSeq: s.lastSeq,
      ackedThrough: s.ackedThrough,
      oldestCreatedAt: oldest?.created_at ?? null,
      dropped: { ...s.dropped },
    };
  }

  override close(): void {
    if (this.closed) return;
    super.close();
    this.budgetLog.close();
  }

  private appendIn(records: readonly OutboxRecordInput[], s: State): AppendResult {
    const seqs: Array<number | null> = [];
    let evicted = 0;
    const now = this.now();
    for (const r of records) {
      const bytes = recordBytes(r);
      const room = budgetRoom(this.limits, s.bytes, bytes);
      if (room === 'reject') {
        s.dropped.rejected += 1;
        this.drop.rejected += 1;
        this.drop.rejectedBytes += bytes;
        seqs.push(null);
        continue;
      }
      if (room === 'evict') evicted += this.evictIn(s.bytes + bytes - this.limits.maxBytes, s);
      const seq = s.lastSeq + 1;
      this.stmt.insert.run(seq, r.kind, r.topic, r.payload, r.qos, r.retain === true ? 1 : 0, r.createdAt ?? now, bytes);
      s.lastSeq = seq;
      s.depth += 1;
      s.bytes += bytes;
      seqs.push(seq);
    }
    this.writeStateIn(s);
    return { seqs, evicted };
  }

  /** Deletes the oldest held records until at least `need` bytes are free. */
  private evictIn(need: number, s: State): number {
    let freed = 0;
    let count = 0;
    // Bounded: each pass removes at least one row or stops when the table is empty. A steady
    // stream under drop-oldest evicts about one row per append, so start small and widen.
    let chunk = 4;
    while (freed < need) {
      const head = this.stmt.head.all(chunk) as Array<{ seq: number; bytes: number }>;
      chunk = Math.min(chunk * 2, EVICT_CHUNK);
      if (head.length === 0) break;
      if (this.drop.evicted === 0 && count === 0) this.drop.oldestSeq = head[0]!.seq;
      let through = 0;
      for (const h of head) {
        freed += h.bytes;
        count += 1;
        through = h.seq;
        if (freed >= need) break;
      }
      this.stmt.deleteRange.run(0, through);
      this.drop.newestSeq = through;
    }
    s.depth -= count;
    s.bytes -= freed;
    s.dropped.budget += count;
    if (count > 0) {
      this.drop.evicted += count;
      this.drop.evictedBytes += freed;
    }
    return count;
  }

  private ackIn(ranges: ReadonlyArray<readonly [number, number]>, s: State): void {
    for (const [from, to] of ranges) {
      const { n, b } = this.stmt.rangeSum.get(from, to) as { n: number; b: number };
      if (n === 0) continue;
      this.stmt.deleteRange.run(from, to);
      s.depth -= n;
      s.bytes -= b;
    }
    this.writeStateIn(s);
  }

  private expireIn(cutoff: number, s: State): number {
    let count = 0;
    // Sequence order is append order, so the oldest rows sit at the head. A wall-clock step
    // backwards can leave an older row behind a newer one; it is dropped on a later pass.
    for (;;) {
      const head = this.stmt.head.all(EVICT_CHUNK) as Array<{ seq: number; bytes: number; created_at: number }>;
      let through = 0;
      let freed = 0;
      let n = 0;
      for (const h of head) {
        if (h.created_at >= cutoff) break;
        through = h.seq;
        freed += h.bytes;
        n += 1;
      }
      if (n === 0) break;
      this.stmt.deleteRange.run(0, through);
      s.depth -= n;
      s.bytes -= freed;
      count += n;
      if (n < head.length) break;
    }
    s.dropped.age += count;
    if (count > 0) this.writeStateIn(s);
    return count;
  }

  private writeStateIn(s: State): void {
    const min = (this.stmt.minSeq.get() as { s: number | null }).s;
    // Everything below the oldest held row has left the store; an empty store is caught up.
    s.ackedThrough = min === null ? s.lastSeq : min - 1;
    this.stmt.writeState.run(s.lastSeq, s.ackedThrough, s.dropped.budget, s.dropped.age, s.dropped.rejected);
  }

  private loadState(): State {
    const st = this.stmt.readState.get() as
      | { last_seq: number; acked_through: number; dropped_budget: number; dropped_age: number; rejected: number }
      | undefined;
    if (st === undefined) throw new FieldgateError('FG_ERR_STORE_MIGRATION', 'outbox_state row missing: the outbox migrations did not run');
    const { n, b } = this.stmt.totals.get() as { n: number; b: number };
    return {
      lastSeq: st.last_seq,
      ackedThrough: st.acked_through,
      depth: n,
      bytes: b,
      dropped: { budget: st.dropped_budget, age: st.dropped_age, rejected: st.rejected },
    };
  }

  private guard<T>(op: string, fn: () => T): T {
    try {
      const result = fn();
      if (op !== 'read') this.faults?.succeeded('outbox');
      return result;
    } catch (e) {
      const translated = translateOutboxError(op, e);
      if (translated !== e) this.faults?.failed('outbox', op, translated);
      throw translated;
    }
  }

}

/** In place: the append path allocates nothing for this. */
function resetDrop(d: BudgetDrop): void {
  d.evicted = 0;
  d.evictedBytes = 0;
  d.oldestSeq = 0;
  d.newestSeq = 0;
  d.rejected = 0;
  d.rejectedBytes = 0;
}

function cloneState(s: State): State {
  return { ...s, dropped: { ...s.dropped } };
}
