// The store as the gateway sees it: one SQLite file, its epoch, the outbox in it. The local
// broker adds its migration set here later, next to the outbox's, without touching it.
import type { Logger } from '../observe/logger.js';
import { errorMessage } from '../errors.js';
import { silentLogger } from '../observe/logger.js';
import { isCorruption, moveCorruptAside, openDatabase, type MigrationSet, type SqliteDatabase, type SynchronousLevel } from './database.js';
import type { OnFull } from './outbox.js';
import { OUTBOX_MIGRATIONS, OUTBOX_OWNER, SqliteOutbox } from './sqlite-outbox.js';
import { StoreFaults } from './store-faults.js';

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
  /**
   * Bytes of `maxBytes` kept for the command journal (issue 19: it counts toward the budget);
   * the outbox gets the rest. 0 when absent. The gateway uses journalShareOf(maxBytes).
   */
  journalMaxBytes?: number;
}

/** The command journal's share of store.maxBytes: 1/16, between 64 KiB and 8 MiB. */
export function journalShareOf(maxBytes: number): number {
  return Math.min(8 * 1024 * 1024, Math.max(64 * 1024, Math.floor(maxBytes / 16)));
}

export interface Store {
  readonly db: SqliteDatabase;
  readonly epoch: string;
  readonly outbox: SqliteOutbox;
  /** Set when a corrupt file was moved aside at startup. */
  readonly recovered: { movedTo: string; reason: string } | undefined;
  /** Every write path's one answer to a full disk or a damaged file; /health reads it. */
  readonly faults: StoreFaults;
  /** The command journal's share of maxBytes. */
  readonly journalMaxBytes: number;
  close(): void;
}

export function openStore(options: StoreOptions): Store {
  try {
    return openStoreOnce(options);
  } catch (e) {
    // Damage the open-time checks did not see (a page read only now, by the migrations, the
    // epoch or the outbox's totals) is still damage: moved aside, a new epoch (issue 19: a
    // corrupt store is never a reason to stay down).
    if (options.path === ':memory:' || !isCorruption(e)) throw e;
    const log = options.logger ?? silentLogger();
    const recovered = moveCorruptAside(options.path, errorMessage(e), log, options.now);
    return { ...openStoreOnce(options), recovered };
  }
}

function openStoreOnce(options: StoreOptions): Store {
  const opened = openDatabase({
    path: options.path,
    migrations: [{ owner: OUTBOX_OWNER, migrations: OUTBOX_MIGRATIONS }, ...(options.extraMigrations ?? [])],
    ...(options.synchronous !== undefined ? { synchronous: options.synchronous } : {}),
    ...(options.maxPageCount !== undefined ? { maxPageCount: options.maxPageCount } : {}),
    ...(options.logger !== undefined ? { logger: options.logger } : {}),
    ...(options.now !== undefined ? { now: options.now } : {}),
  });
  const db = opened.db;
  // 64 KiB in and out of store_meta in one transaction: it commits only when a write the size
  // of a big append would, so a part is not declared healthy on a disk that is still full.
  const probeTx = db.transaction(() => {
    db.prepare("INSERT INTO store_meta (key, value) VALUES ('space_probe', printf('%.*c', 65536, 'x')) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run();
    db.prepare("DELETE FROM store_meta WHERE key = 'space_probe'").run();
  });
  const faults = new StoreFaults({ ...(options.logger !== undefined ? { logger: options.logger } : {}), probe: () => probeTx() });
  if (opened.degraded !== undefined) faults.failed('open', 'open', opened.degraded);
  const journalMaxBytes = options.journalMaxBytes ?? 0;
  let outbox: SqliteOutbox;
  try {
    outbox = new SqliteOutbox({
      db: opened.db,
      epoch: opened.epoch,
      faults,
      maxBytes: Math.max(0, options.maxBytes - STORE_FIXED_BYTES - journalMaxBytes),
      maxAgeMs: options.maxAgeMs,
      onFull: options.onFull,
      ...(options.now !== undefined ? { now: options.now } : {}),
      ...(options.logger !== undefined ? { logger: options.logger } : {}),
      ...(options.budgetLogIntervalMs !== undefined ? { budgetLogIntervalMs: options.budgetLogIntervalMs } : {}),
    });
  } catch (e) {
    faults.close();
    db.close();
    throw e;
  }
  let closed = false;
  return {
    db: opened.db,
    epoch: opened.epoch,
    outbox,
    recovered: opened.recovered,
    faults,
    journalMaxBytes,
    close() {
      if (closed) return;
      closed = true;
      faults.close();
      outbox.close();
      opened.db.close();
    },
  };
}
