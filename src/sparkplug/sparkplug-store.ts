// Sparkplug state that must outlive the process, in the gateway's SQLite file: the last bdSeq
// (a restart continues it [tck-id-payloads-nbirth-bdseq-repeat]) and the command journal
// (every NCMD/DCMD write: what, when, and how it ended).
import type { MigrationSet, SqliteDatabase } from '../store/database.js';
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

  /** `key`: one counter per session stream (the upstream one, the local broker's one). */
  constructor(db: SqliteDatabase, private readonly key = 'bdSeq') {
    this.get = db.prepare<[string], { value: number }>('SELECT value FROM sparkplug_state WHERE key = ?');
    this.put = db.prepare<[string, number]>('INSERT INTO sparkplug_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
  }

  load(): number | undefined {
    return this.get.get(this.key)?.value;
  }

  save(value: number): void {
    this.put.run(this.key, value);
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

export class SqliteCommandJournal implements CommandJournal {
  private readonly insert;
  private readonly finish;
  private readonly recent;

  constructor(db: SqliteDatabase) {
    this.insert = db.prepare<[string, string | null, string, string, number]>(
      'INSERT INTO command_journal (source, device, metric, value, received_at) VALUES (?, ?, ?, ?, ?)',
    );
    this.finish = db.prepare<[string, string | null, number, number]>('UPDATE command_journal SET result = ?, error = ?, completed_at = ? WHERE id = ?');
    this.recent = db.prepare<[number], JournalRow>('SELECT * FROM command_journal ORDER BY id DESC LIMIT ?');
  }

  received(e: { source: string; device: string | undefined; metric: string; value: string; receivedAt: number }): number {
    return Number(this.insert.run(e.source, e.device ?? null, e.metric, e.value, e.receivedAt).lastInsertRowid);
  }

  completed(id: number, result: 'ok' | 'refused' | 'failed', error: string | undefined, at: number): void {
    this.finish.run(result, error ?? null, at, id);
  }

  latest(n: number): JournalRow[] {
    return this.recent.all(n);
  }
}
