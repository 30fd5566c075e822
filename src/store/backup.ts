// `fieldgate backup`: a consistent copy of a store while the gateway keeps writing to it.
// A plain `cp` of a WAL database is not a backup: the newest commits live in the -wal file, and
// copying the two files at different moments can pair a main file with a WAL from another
// point in time. VACUUM INTO reads the whole store inside one read transaction (one snapshot;
// in WAL mode it never blocks the gateway's writers) and writes a compact, self-contained file.
// Unlike the online backup API, it does not restart when the gateway commits mid-copy, so it
// ends on a busy store.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { FieldgateError, errorMessage } from '../errors.js';
import { BACKUP_MARKER_KEY } from './database.js';


export interface BackupSummary {
  source: string;
  dest: string;
  bytes: number;
  epoch: string;
  /** Records held in the copy (not yet acknowledged upstream when it was taken). */
  records: number;
  lastSeq: number;
  ackedThrough: number;
  takenAt: string;
  versions: Record<string, number>;
}

export function backupStore(source: string, dest: string, now: () => number = Date.now): BackupSummary {
  if (!existsSync(source)) throw new FieldgateError('FG_ERR_STORE_OPEN', `no store at ${source}`);
  if (existsSync(dest)) throw new FieldgateError('FG_ERR_USAGE', `${dest} exists: give a new file name (a backup never overwrites)`);
  const partial = `${dest}.partial`;
  mkdirSync(dirname(dest), { recursive: true });
  rmSync(partial, { force: true });
  let src: Database.Database;
  try {
    // Read-only: this process must never write to the live store. Run it as the service user
    // (or root: SQLite gives a -shm file it creates the database file's owner).
    src = new Database(source, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new FieldgateError('FG_ERR_STORE_OPEN', `cannot open store ${source}: ${errorMessage(e)}`, { cause: e });
  }
  try {
    src.pragma('busy_timeout = 5000');
    src.prepare('VACUUM INTO ?').run(partial);
  } catch (e) {
    rmSync(partial, { force: true });
    throw new FieldgateError('FG_ERR_STORE_IO', `backup of ${source} failed: ${errorMessage(e)}`, { cause: e });
  } finally {
    src.close();
  }
  const takenAt = new Date(now()).toISOString();
  let summary: Omit<BackupSummary, 'bytes'>;
  const copy = new Database(partial, { fileMustExist: true });
  try {
    const check = copy.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new FieldgateError('FG_ERR_STORE_CORRUPT', `the backup copy failed its integrity check: ${String(check)}`);
    // A restored copy must not reuse sequences the live store may already have sent after this
    // moment: the marker makes the store that opens it start a new epoch (see database.ts).
    copy.prepare('INSERT INTO store_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(BACKUP_MARKER_KEY, takenAt);
    // A self-contained file: no -wal to lose on the way to another disk.
    copy.pragma('journal_mode = DELETE');
    summary = { source, dest, takenAt, ...describe(copy) };
  } catch (e) {
    copy.close();
    rmSync(partial, { force: true });
    throw e;
  }
  copy.close();
  // VACUUM INTO does not fsync its output: make the copy durable before it gets its name.
  syncFile(partial);
  renameSync(partial, dest);
  syncFile(dirname(dest));
  return { ...summary, bytes: statSync(dest).size };
}

function describe(db: Database.Database): Pick<BackupSummary, 'epoch' | 'records' | 'lastSeq' | 'ackedThrough' | 'versions'> {
  const epoch = (db.prepare("SELECT value FROM store_meta WHERE key = 'epoch'").get() as { value: string } | undefined)?.value ?? '';
  const versions = Object.fromEntries((db.prepare('SELECT owner, version FROM schema_versions ORDER BY owner').all() as Array<{ owner: string; version: number }>).map((r) => [r.owner, r.version]));
  const hasOutbox = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'outbox_state'").get() !== undefined;
  if (!hasOutbox) return { epoch, records: 0, lastSeq: 0, ackedThrough: 0, versions };
  const state = db.prepare('SELECT last_seq, acked_through FROM outbox_state WHERE id = 1').get() as { last_seq: number; acked_through: number };
  const { n } = db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number };
  return { epoch, records: n, lastSeq: state.last_seq, ackedThrough: state.acked_through, versions };
}

function syncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
