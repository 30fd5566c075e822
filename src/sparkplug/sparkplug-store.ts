// Sparkplug state that must outlive the process, in the gateway's SQLite file: the last bdSeq
// (a restart continues it [tck-id-payloads-nbirth-bdseq-repeat]) and the command journal
// (every NCMD/DCMD write: what, when, and how it ended).
import type { MigrationSet, SqliteDatabase } from '../store/database.js';
import { storeErrorCode, type StoreFaults } from '../store/store-faults.js';
import type { CommandJournal } from './edge-node.js';
import type { BdSeqStore } from './sequence.js';

export const SPARKPLUG_MIGRATIONS: MigrationSet = {
  owner: 'sparkplug',
  migrations: [
    {
      version: 1,
      description: 'bdSeq and command journal',
      up(db) {
        db.exec(`
          CREATE TABLE sparkplug_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT;
          CREATE TABLE command_journal (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            device TEXT,
            metric TEXT NOT NULL,
            value TEXT NOT NULL,
            received_at INTEGER NOT NULL,
            result TEXT,
            error TEXT,
            completed_at INTEGER
          ) STRICT;
        `);
      },
    },
  ],
};

export class SqliteBdSeqStore implements BdSeqStore {
  private readonly get;
  private readonly put;
  /** The last value saved: a save the disk refused must not make the next CONNECT reuse it. */
  private last: number | undefined;

  /**
   * `key`: one counter per session stream (the upstream one, the local broker's one).
   * `faults`: a save the store refuses (disk full, issue 19) is reported and retried; the
   * session goes on with the value in memory.
   */
  constructor(db: SqliteDatabase, private readonly key = 'bdSeq', private readonly faults?: StoreFaults) {
    this.get = db.prepare<[string], { value: number }>('SELECT value FROM sparkplug_state WHERE key = ?');
    this.put = db.prepare<[string, number]>('INSERT INTO sparkplug_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
  }

  load(): number | undefined {
    return this.last ?? this.get.get(this.key)?.value;
  }

  save(value: number): void {
    this.last = value;
    if (this.faults === undefined) this.put.run(this.key, value);
    else this.faults.write('bdSeq', 'bdSeq save', this.key, () => this.put.run(this.key, value));
  }
}

export interface JournalRow {
  id: number;
  source: string;
  device: string | null;
  metric: string;
  value: string;
  received_at: number;
  result: string | null;
  error: string | null;
  completed_at: number | null;
}

/** Longest value or error text a journal row keeps: it is an audit trail, not a copy (issue 19). */
export const JOURNAL_TEXT_MAX = 256;
/** What a row costs besides its texts: record header, rowid, integers, cell pointer, slack. */
const JOURNAL_ROW_OVERHEAD = 64;
/** SQL for the same estimate, over a row of command_journal. */
const ROW_COST_SQL = `${JOURNAL_ROW_OVERHEAD} + length(source) + ifnull(length(device), 0) + length(metric) + length(value) + ifnull(length(result), 0) + ifnull(length(error), 0)`;

export interface SqliteCommandJournalOptions {
  /**
   * The journal's share of store.maxBytes (openStore's journalMaxBytes). Beyond it the oldest
   * rows are deleted, down to 90 %, and counted in `trimmed`. Unbounded when absent.
   */
  maxBytes?: number;
  /** A write the store refuses (disk full) is reported there and skipped; the command goes on. */
  faults?: StoreFaults;
}

type JournalOp =
  | { op: 'insert'; id: number; source: string; device: string | null; metric: string; value: string; at: number }
  | { op: 'finish'; id: number; result: string; error: string | null; at: number };

/** Journal writes committed in one transaction at most; the rest wait for the next turn. */
const JOURNAL_BATCH = 500;

/**
 * The command journal. Writes are grouped: everything journaled in one turn of the event loop
 * commits in one transaction (issue 19: two fsynced transactions per command made a flood of
 * commands stall the event loop, 5 ms each). Row ids are handed out here, so a command's
 * completion can follow its receipt in the same group. A group the store refuses (disk full)
 * is reported through `faults` and dropped: the journal is an audit trail, the command runs.
 */
export class SqliteCommandJournal implements CommandJournal {
  private readonly insert;
  private readonly finish;
  private readonly recent;
  private readonly oldest;
  private readonly deleteThrough;
  private readonly commitTx;
  private bytes: number;
  private nextId: number;
  private pending: JournalOp[] = [];
  private scheduled: ReturnType<typeof setImmediate> | undefined;
  /** Rows deleted to keep the journal within its share of the budget, since start. */
  trimmed = 0;

  constructor(private readonly db: SqliteDatabase, private readonly options: SqliteCommandJournalOptions = {}) {
    this.insert = db.prepare<[number, string, string | null, string, string, number]>(
      'INSERT INTO command_journal (id, source, device, metric, value, received_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.finish = db.prepare<[string, string | null, number, number]>('UPDATE command_journal SET result = ?, error = ?, completed_at = ? WHERE id = ?');
    this.recent = db.prepare<[number], JournalRow>('SELECT * FROM command_journal ORDER BY id DESC LIMIT ?');
    this.oldest = db.prepare<[number], { id: number; cost: number }>(`SELECT id, ${ROW_COST_SQL} AS cost FROM command_journal ORDER BY id LIMIT ?`);
    this.deleteThrough = db.prepare<[number]>('DELETE FROM command_journal WHERE id <= ?');
    const totals = db.prepare(`SELECT COALESCE(SUM(${ROW_COST_SQL}), 0) AS b, COALESCE(MAX(id), 0) AS last FROM command_journal`).get() as { b: number; last: number };
    this.bytes = totals.b;
    this.nextId = totals.last + 1;
    this.commitTx = db.transaction((ops: readonly JournalOp[]) => {
      for (const o of ops) {
        if (o.op === 'insert') this.insert.run(o.id, o.source, o.device, o.metric, o.value, o.at);
        else this.finish.run(o.result, o.error, o.at, o.id);
      }
      return true;
    });
  }

  /** The estimated bytes the journal's rows take in the file. */
  get size(): number {
    return this.bytes;
  }

  /** The row id the entry gets when its group commits. */
  received(e: { source: string; device: string | undefined; metric: string; value: string; receivedAt: number }): number {
    const id = this.nextId++;
    this.queue({ op: 'insert', id, source: e.source, device: e.device ?? null, metric: clip(e.metric), value: clip(e.value), at: e.receivedAt });
    return id;
  }

  completed(id: number, result: 'ok' | 'refused' | 'failed', error: string | undefined, at: number): void {
    if (id <= 0) return;
    this.queue({ op: 'finish', id, result, error: error === undefined ? null : clip(error), at });
  }

  latest(n: number): JournalRow[] {
    this.flush();
    return this.recent.all(n);
  }

  /** Commits what is pending now (the gateway calls it before closing the store). */
  flush(): void {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    while (this.pending.length > 0) {
      if (!this.db.open) {
        this.pending = [];
        return;
      }
      const group = this.pending.splice(0, JOURNAL_BATCH);
      if (this.guarded('journal write', () => this.commitTx(group)) === undefined) continue;
      for (const o of group) this.bytes += o.op === 'insert' ? JOURNAL_ROW_OVERHEAD + o.source.length + (o.device?.length ?? 0) + o.metric.length + o.value.length : o.result.length + (o.error?.length ?? 0);
      this.trim();
    }
  }

  private queue(op: JournalOp): void {
    this.pending.push(op);
    this.scheduled ??= setImmediate(() => {
      this.scheduled = undefined;
      this.flush();
    });
  }

  private guarded<T>(op: string, run: () => T): T | undefined {
    const faults = this.options.faults;
    try {
      const r = run();
      faults?.succeeded('journal');
      return r;
    } catch (e) {
      if (storeErrorCode(e) === undefined) throw e;
      faults?.failed('journal', op, e);
      return undefined;
    }
  }

  /** Oldest rows out until the journal is back under 90 % of its share. */
  private trim(): void {
    const max = this.options.maxBytes;
    if (max === undefined || this.bytes <= max) return;
    const target = Math.floor(max * 0.9);
    while (this.bytes > target) {
      const head = this.oldest.all(256);
      if (head.length === 0) {
        this.bytes = 0;
        return;
      }
      let through = 0;
      let n = 0;
      let freed = 0;
      for (const h of head) {
        if (this.bytes - freed <= target) break;
        through = h.id;
        freed += h.cost;
        n += 1;
      }
      if (this.guarded('journal trim', () => this.deleteThrough.run(through).changes) === undefined) return;
      this.bytes -= freed;
      this.trimmed += n;
    }
  }
}

function clip(text: string): string {
  return text.length <= JOURNAL_TEXT_MAX ? text : `${text.slice(0, JOURNAL_TEXT_MAX)}... (${text.length} chars)`;
}
