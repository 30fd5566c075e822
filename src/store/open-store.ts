// The store as the gateway sees it: one SQLite file, its epoch, the outbox in it. The local
// broker adds its migration set here later, next to the outbox's, without touching it.
import type { Logger } from '../observe/logger.js';
import { openDatabase, type MigrationSet, type SqliteDatabase, type SynchronousLevel } from './database.js';
import type { OnFull } from './outbox.js';
import { OUTBOX_MIGRATIONS, OUTBOX_OWNER, SqliteOutbox } from './sqlite-outbox.js';

/**
 * File pages that exist whatever the outbox holds: the header and schema page, store_meta and
 * schema_versions with their indexes, outbox_state, the outbox's b-tree root, and one spare for
 * an interior page. `maxBytes` covers them, so records get `maxBytes - STORE_FIXED_BYTES`.
 * The broker's tables, when added, will count against the same file.
 */
export const STORE_FIXED_BYTES = 8 * 4096;

export interface StoreOptions {
  path: string;
  /** Budget for the database file (the WAL beside it is bounded separately: 4 MiB after checkpoints). */
  maxBytes: number;
  maxAgeMs: number;
  onFull: OnFull;
  synchronous?: SynchronousLevel;
  maxPageCount?: number;
  logger?: Logger;
  now?: () => number;
  /** The budget warning's summaries come at most this often (default 60 s). */
  budgetLogIntervalMs?: number;
  /** Tables of other owners in the same file (broker sessions, retained). */
  extraMigrations?: readonly MigrationSet[];
}

export interface Store {
  readonly db: SqliteDatabase;
  readonly epoch: string;
  readonly outbox: SqliteOutbox;
  /** Set when a corrupt file was moved aside at startup. */
  readonly recovered: { movedTo: string; reason: string } | undefined;
  close(): void;
}

export function openStore(options: StoreOptions): Store {
  const opened = openDatabase({
    path: options.path,
    migrations: [{ owner: OUTBOX_OWNER, migrations: OUTBOX_MIGRATIONS }, ...(options.extraMigrations ?? [])],
    ...(options.synchronous !== undefined ? { synchronous: options.synchronous } : {}),
    ...(options.maxPageCount !== undefined ? { maxPageCount: options.maxPageCount } : {}),
    ...(options.logger !== undefined ? { logger: options.logger } : {}),
    ...(options.now !== undefined ? { now: options.now } : {}),
  });
  const outbox = new SqliteOutbox({
    db: opened.db,
    epoch: opened.epoch,
    maxBytes: Math.max(0, options.maxBytes - STORE_FIXED_BYTES),
    maxAgeMs: options.maxAgeMs,
    onFull: options.onFull,
    ...(options.now !== undefined ? { now: options.now } : {}),
    ...(options.logger !== undefined ? { logger: options.logger } : {}),
    ...(options.budgetLogIntervalMs !== undefined ? { budgetLogIntervalMs: options.budgetLogIntervalMs } : {}),
  });
  let closed = false;
  return {
    db: opened.db,
    epoch: opened.epoch,
    outbox,
    recovered: opened.recovered,
    close() {
      if (closed) return;
      closed = true;
      outbox.close();
      opened.db.close();
    },
  };
}
