// Opening the store's SQLite file: pragmas, integrity check, corrupt-file recovery, epoch and
// versioned migrations. Every part that keeps tables in this file (the outbox now, the local
// broker's sessions and retained messages later) brings its own migration list under its own
// owner name, so adding an owner never touches another owner's migrations.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, renameSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '../observe/logger.js';
import { silentLogger } from '../observe/logger.js';
import { FieldgateError, errorMessage } from '../errors.js';
import { urandomBytes } from '../shared/urandom.js';

export type SqliteDatabase = Database.Database;

export interface Migration {
  /** 1, 2, 3... per owner; applied in order, each in its own transaction. */
  version: number;
  description: string;
  up(db: SqliteDatabase): void;
}

export interface MigrationSet {
  /** Stable name of the part that owns these tables, e.g. `outbox`, `broker-sessions`. */
  owner: string;
  migrations: readonly Migration[];
}

/**
 * `full`: every committed transaction is fsynced to the WAL before commit returns, so an
 * accepted record survives a power cut; a power cut costs only records whose transaction had
 * not committed yet (they were never accepted). `normal`: commits are durable against a
 * process crash (kill -9) but a power cut can roll back the transactions committed since the
 * last checkpoint (up to `wal_autocheckpoint` = 1000 pages, about 4 MiB); the file is never
 * corrupted. Grouped appends make `full` cheap: one fsync per group, not per record.
 */
export type SynchronousLevel = 'full' | 'normal';

export interface OpenDatabaseOptions {
  /** File path, or `:memory:` for a volatile store (tests, diskless demo). */
  path: string;
  migrations: readonly MigrationSet[];
  synchronous?: SynchronousLevel;
  logger?: Logger;
  /**
   * Hard cap on the main file in pages of 4 KiB. SQLite answers SQLITE_FULL beyond it, exactly
   * as on a full disk: use it to give the store a fixed share of a partition.
   */
  maxPageCount?: number;
  /** Wall clock for the name of a moved-aside corrupt file. */
  now?: () => number;
}

export interface OpenedDatabase {
  db: SqliteDatabase;
  /** Changes whenever the store starts from an empty file; part of every dedup key. */
  epoch: string;
  /** Set when a corrupt file was moved aside at startup. */
  recovered?: { movedTo: string; reason: string };
  /** Set when the file opened on a full disk: reads work, writes fail until space returns. */
  degraded?: FieldgateError;
}

const PAGE_SIZE = 4096;

/** store_meta key that `fieldgate backup` sets in its copy only: opening it starts a new epoch. */
export const BACKUP_MARKER_KEY = 'backup_taken_at';

export function openDatabase(options: OpenDatabaseOptions): OpenedDatabase {
  const log = options.logger ?? silentLogger();
  const now = options.now ?? Date.now;
  const memory = options.path === ':memory:';
  let recovered: OpenedDatabase['recovered'];
  if (!memory) {
    // SQLite opens a zero-length file as an empty store without a word: whatever was buffered
    // is gone. Issue 19: treated like a corrupt file, loudly, with a new epoch.
    if (isZeroLength(options.path)) recovered = moveCorruptAside(options.path, 'the store file is empty (zero bytes)', log, now);
    prepareFile(options.path);
  }
  let degraded: FieldgateError | undefined;
  let db: SqliteDatabase;
  try {
    db = openChecked(options);
  } catch (e) {
    if (!memory && isNoSpace(e)) {
      // Issue 19, start on a full disk: WAL's shared-memory file cannot be sized. In exclusive
      // locking mode SQLite keeps that index in process memory, so the file opens, reads work
      // and writes fail with SQLITE_FULL until space returns, answered like any other full disk.
      // (Only this process may open the file until restart; `fieldgate backup` waits for it.)
      try {
        db = openChecked({ ...options, exclusive: true });
      } catch (e2) {
        throw new FieldgateError(noSpaceCode(e2), `cannot open store ${options.path} on a full disk: ${errorMessage(e2)}`, { cause: e2 });
      }
      degraded = new FieldgateError(noSpaceCode(e), `store ${options.path} opened on a full disk (${errorMessage(e)}): running degraded, writes resume when space returns`, { cause: e });
    } else if (!memory && (isCorruption(e) || isUnreadable(e, options.path))) {
      recovered = moveCorruptAside(options.path, errorMessage(e), log, now);
      prepareFile(options.path);
      try {
        db = openChecked(options);
      } catch (e2) {
        throw new FieldgateError('FG_ERR_STORE_OPEN', `cannot create a fresh store at ${options.path}: ${errorMessage(e2)}`, { cause: e2 });
      }
    } else {
      throw new FieldgateError(storeOpenCode(e), `cannot open store ${options.path}: ${errorMessage(e)}`, { cause: e });
    }
  }
  try {
    // Versions first: a file from a newer fieldgate is refused before anything is written to it.
    migrate(db, options.path, options.migrations, log);
    const epoch = ensureEpoch(db, log);
    return { db, epoch, ...(recovered !== undefined ? { recovered } : {}), ...(degraded !== undefined ? { degraded } : {}) };
  } catch (e) {
    db.close();
    throw e;
  }
}

/**
 * The data directory 0700 when we create it and the store file 0600 (issue 19: outside systemd
 * the umask gave 0755 and 0644). SQLite gives its -wal and -shm the mode of the main file.
 * An existing directory is left as it is: it may be the working directory.
 */
function prepareFile(path: string): void {
  const dir = dirname(path);
  try {
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new FieldgateError('FG_ERR_STORE_OPEN', `cannot create the directory of ${path}: ${errorMessage(e)}`, { cause: e });
  }
  try {
    closeSync(openSync(path, 'a', 0o600));
    for (const suffix of ['', '-wal', '-shm']) if (existsSync(path + suffix)) chmodSync(path + suffix, 0o600);
  } catch {
    // Not ours to judge here: a directory in the way, a read-only mount, a file we may not
    // touch. SQLite meets the same and its error decides (moved aside, or FG_ERR_STORE_*).
  }
}

/** An existing store file of zero bytes (with no WAL holding its pages). */
function isZeroLength(path: string): boolean {
  try {
    const st = statSync(path);
    if (!st.isFile() || st.size > 0) return false;
    return !existsSync(`${path}-wal`) || statSync(`${path}-wal`).size === 0;
  } catch {
    return false;
  }
}

function openChecked(options: OpenDatabaseOptions & { exclusive?: boolean }): SqliteDatabase {
  const db = new Database(options.path);
  try {
    if (options.exclusive === true) db.pragma('locking_mode = EXCLUSIVE');
    // page_size only takes effect on a new file; WAL keeps readers off the writer's back and
    // makes a commit one sequential append.
    db.pragma(`page_size = ${PAGE_SIZE}`);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${(options.synchronous ?? 'full').toUpperCase()}`);
    // Truncate the WAL back to 4 MiB after checkpoints so it cannot eat the disk budget.
    db.pragma('journal_size_limit = 4194304');
    db.pragma('foreign_keys = ON');
    if (options.maxPageCount !== undefined) db.pragma(`max_page_count = ${options.maxPageCount}`);
    // quick_check is O(pages), not O(N log N) like integrity_check: seconds, not minutes, on a
    // Pi with a 512 MiB store. It still catches torn pages and broken b-trees.
    const rows = db.pragma('quick_check') as Array<{ quick_check: string }>;
    const first = rows[0]?.quick_check;
    if (first !== 'ok') {
      throw Object.assign(new Error(`quick_check: ${rows.map((r) => r.quick_check).slice(0, 5).join('; ')}`), { code: 'SQLITE_CORRUPT' });
    }
    checkSmallTables(db);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/**
 * quick_check does not compare an index with its table: a damaged index passes it and the
 * first lookup (bdSeq, the epoch) fails with SQLITE_CORRUPT on every start (issue 19). Every
 * table but the outbox is small (bounded journal, sessions, retained), so a full
 * integrity_check of each costs little; the outbox has no index besides its rowid, which
 * quick_check already walked.
 */
function checkSmallTables(db: SqliteDatabase): void {
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'outbox'").all() as Array<{ name: string }>;
  for (const { name } of tables) {
    const rows = db.pragma(`integrity_check("${name.replaceAll('"', '""')}")`) as Array<{ integrity_check: string }>;
    if (rows[0]?.integrity_check !== 'ok') {
      throw Object.assign(new Error(`integrity_check(${name}): ${rows.map((r) => r.integrity_check).slice(0, 3).join('; ')}`), { code: 'SQLITE_CORRUPT' });
    }
  }
}

function isNoSpace(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return code === 'SQLITE_FULL' || (typeof code === 'string' && code.startsWith('SQLITE_IOERR'));
}

function noSpaceCode(e: unknown): 'FG_ERR_STORE_DISK_FULL' | 'FG_ERR_STORE_IO' {
  const code = (e as { code?: unknown }).code;
  return code === 'SQLITE_FULL' || code === 'SQLITE_IOERR_SHMSIZE' ? 'FG_ERR_STORE_DISK_FULL' : 'FG_ERR_STORE_IO';
}

/** A file SQLite cannot make sense of: damaged pages or index, not a database, unreadable. */
export function isCorruption(e: unknown): boolean {
  for (let x: unknown = e, depth = 0; x !== undefined && x !== null && depth < 4; x = (x as { cause?: unknown }).cause, depth++) {
    const code = (x as { code?: unknown }).code;
    if (typeof code !== 'string') continue;
    if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB' || code === 'SQLITE_IOERR_SHORT_READ') return true;
  }
  return false;
}

/** An existing path SQLite cannot open as a file at all (a directory, a broken file). */
function isUnreadable(e: unknown, path: string): boolean {
  return (e as { code?: unknown }).code === 'SQLITE_CANTOPEN' && existsSync(path);
}

/** FG_ERR_STORE_* for a failed open that is neither damage nor a full disk (read-only, locked...). */
function storeOpenCode(e: unknown): 'FG_ERR_STORE_OPEN' | 'FG_ERR_STORE_READONLY' {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_READONLY') ? 'FG_ERR_STORE_READONLY' : 'FG_ERR_STORE_OPEN';
}

/**
 * Moves a damaged store file (and its -wal and -shm, which belong to it: left behind they would
 * replay its pages into the fresh file) to `<path>.corrupt-<ms>`, with one loud log line: what
 * it buffered is not going upstream from here. The next open starts a new epoch.
 */
export function moveCorruptAside(path: string, reason: string, log: Logger, now: () => number = Date.now): { movedTo: string; reason: string } {
  const movedTo = `${path}.corrupt-${now()}`;
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(path + suffix)) {
      try {
        renameSync(path + suffix, movedTo + suffix);
      } catch (e) {
        throw new FieldgateError('FG_ERR_STORE_OPEN', `cannot move the corrupt store ${path}${suffix} aside: ${errorMessage(e)}`, { cause: e });
      }
    }
  }
  log.error(
    { code: 'FG_ERR_STORE_CORRUPT', path, movedTo, reason },
    `store file is damaged (${reason}): moved aside to ${movedTo}, starting a new epoch with an empty store`,
  );
  return { movedTo, reason };
}

/**
 * A new random epoch for every fresh file; dedup keys from an old epoch never collide. The bytes
 * come from /dev/urandom, not node:crypto: loading that costs ~2 MiB RSS (issue 15).
 */
export function newEpoch(): string {
  return `${Date.now().toString(36)}${urandomBytes(3).toString('hex')}`;
}

function ensureEpoch(db: SqliteDatabase, log: Logger): string {
  db.exec('CREATE TABLE IF NOT EXISTS store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT');
  const get = db.prepare('SELECT value FROM store_meta WHERE key = ?');
  const row = get.get('epoch') as { value: string } | undefined;
  const backup = get.get(BACKUP_MARKER_KEY) as { value: string } | undefined;
  if (row !== undefined && backup === undefined) return row.value;
  const epoch = newEpoch();
  db.transaction(() => {
    db.prepare("INSERT INTO store_meta (key, value) VALUES ('epoch', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(epoch);
    db.prepare('DELETE FROM store_meta WHERE key = ?').run(BACKUP_MARKER_KEY);
  })();
  if (backup !== undefined) {
    // The live store may have sent sequences above this copy's last one before it was lost; in
    // the old epoch the new records would reuse those keys and a consumer would drop them as
    // duplicates. A new epoch trades that silent loss for duplicates a consumer can see.
    log.warn(
      { backupTakenAt: backup.value, previousEpoch: row?.value, epoch },
      'store restored from a backup: new epoch; records held in it that were already delivered after the backup will be sent again',
    );
  }
  return epoch;
}

function migrate(db: SqliteDatabase, path: string, sets: readonly MigrationSet[], log: Logger): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_versions (owner TEXT PRIMARY KEY, version INTEGER NOT NULL) STRICT');
  const get = db.prepare('SELECT version FROM schema_versions WHERE owner = ?');
  const set = db.prepare('INSERT INTO schema_versions (owner, version) VALUES (?, ?) ON CONFLICT(owner) DO UPDATE SET version = excluded.version');
  const plan = sets.map(({ owner, migrations }) => {
    const sorted = [...migrations].sort((a, b) => a.version - b.version);
    sorted.forEach((m, i) => {
      if (m.version !== i + 1) throw new FieldgateError('FG_ERR_STORE_MIGRATION', `${owner} migrations must be numbered 1, 2, 3...; found ${m.version} at position ${i + 1}`);
    });
    const current = (get.get(owner) as { version: number } | undefined)?.version ?? 0;
    return { owner, sorted, current };
  });
  // Every owner is checked before any is migrated: a file that a newer fieldgate wrote must
  // come out of a refused start exactly as it went in, so that newer version can still open it.
  const ahead = plan.filter((p) => p.current > p.sorted.length);
  if (ahead.length > 0) {
    const which = ahead.map((p) => `${p.owner} tables are at version ${p.current}, this fieldgate knows only up to ${p.sorted.length}`).join('; ');
    throw new FieldgateError(
      'FG_ERR_STORE_MIGRATION',
      `store ${path} was written by a newer fieldgate (${which}): refusing to open it, the file is left untouched. ` +
        'Run the newer fieldgate again, or restore a backup taken before the upgrade.',
    );
  }
  for (const { owner, sorted, current } of plan) {
    for (const m of sorted.slice(current)) {
      try {
        db.transaction(() => {
          m.up(db);
          set.run(owner, m.version);
        })();
      } catch (e) {
        throw new FieldgateError('FG_ERR_STORE_MIGRATION', `${owner} migration ${m.version} (${m.description}) failed: ${errorMessage(e)}`, { cause: e });
      }
      log.info({ owner, from: m.version - 1, version: m.version, description: m.description }, 'store migration applied');
    }
  }
}

/** Current schema version of one owner (0 when none applied). */
export function schemaVersion(db: SqliteDatabase, owner: string): number {
  const row = db.prepare('SELECT version FROM schema_versions WHERE owner = ?').get(owner) as { version: number } | undefined;
  return row?.version ?? 0;
}
