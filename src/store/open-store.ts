// The store as the gateway sees it: one SQLite file, its epoch, the outbox in it. The local
// broker adds its migration set here later, next to the outbox's, without touching it.
import type { Logger } from '../observe/logger.js';
import { openDatabase, type MigrationSet, type SqliteDatabase, type SynchronousLevel } from './database.js';
import type { OnFull } from './outbox.js';
import { OUTBOX_MIGRATIONS, OUTBOX_OWNER, SqliteOutbox } from './sqlite-outbox.js';

export interface StoreOptions {
  path: string;
  maxBytes: number;
  maxAgeMs: number;
  onFull: OnFull;
  synchronous?: SynchronousLevel;
  maxPageCount?: number;
  logger?: Logger;
  now?: () => number;
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
    maxBytes: options.maxBytes,
    maxAgeMs: options.maxAgeMs,
    onFull: options.onFull,
    ...(options.now !== undefined ? { now: options.now } : {}),
    ...(options.logger !== undefined ? { logger: options.logger } : {}),
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
