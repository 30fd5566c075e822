// One answer for every SQLite write path of the store file (issue 19): the outbox, the command
// journal, the broker's sessions and retained messages ($SYS included) and bdSeq. A full disk,
// an I/O error or a damaged page becomes an FG_ERR_STORE_* code, is logged once when the part
// goes down and once when it comes back, and shows in /health; the process stays up. Writes
// that nobody retries by themselves (a session snapshot, bdSeq) are kept, latest per key, and
// tried again every second until the cause goes, so the store resumes on its own.
import { FieldgateError, errorMessage, type ErrorCode } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import { silentLogger } from '../observe/logger.js';

/** The parts that write to the store file; each degrades on its own. */
export type StorePart = 'outbox' | 'journal' | 'broker-sessions' | 'broker-retained' | 'bdSeq' | 'open';

/** What a part of the store does when a write fails: report it, and clear when one succeeds. */
export interface StoreFaultSink {
  failed(part: StorePart, op: string, e: unknown): FieldgateError;
  succeeded(part: StorePart): void;
}

/**
 * The FG_ERR_STORE_* code for a SQLite error, or undefined for anything else (a bug is not a
 * disk problem and must not be swallowed as one).
 */
export function storeErrorCode(e: unknown): ErrorCode | undefined {
  if (e instanceof FieldgateError) return e.code.startsWith('FG_ERR_STORE_') ? e.code : undefined;
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return undefined;
  if (code === 'SQLITE_FULL') return 'FG_ERR_STORE_DISK_FULL';
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') return 'FG_ERR_STORE_DAMAGED';
  return 'FG_ERR_STORE_IO';
}

const MEANING: Partial<Record<ErrorCode, string>> = {
  FG_ERR_STORE_DISK_FULL: 'the disk or the store file size limit is full',
  FG_ERR_STORE_DAMAGED: 'the store file is damaged',
  FG_ERR_STORE_IO: 'the store file cannot be read or written',
};

interface Fault {
  code: ErrorCode;
  op: string;
  error: string;
  since: number;
  failures: number;
}

export interface StoreFaultsOptions {
  logger?: Logger;
  now?: () => number;
  /** How often kept writes are tried again while a part is down (default 1 s). */
  retryEveryMs?: number;
  /** A write that fails while the cause lasts (openStore: 64 KiB in and out of store_meta). */
  probe?: () => void;
}

export class StoreFaults implements StoreFaultSink {
  private readonly faults = new Map<StorePart, Fault>();
  private readonly retries = new Map<string, { part: StorePart; run: () => void }>();
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly retryEveryMs: number;
  private readonly probe: (() => void) | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private closed = false;
  /** Every failed write since start, by part (also in /health). */
  readonly totals = new Map<StorePart, number>();

  constructor(options: StoreFaultsOptions = {}) {
    this.log = options.logger ?? silentLogger();
    this.now = options.now ?? Date.now;
    this.retryEveryMs = options.retryEveryMs ?? 1000;
    this.probe = options.probe;
  }

  failed(part: StorePart, op: string, e: unknown): FieldgateError {
    const code = storeErrorCode(e) ?? 'FG_ERR_STORE_IO';
    const error = e instanceof FieldgateError ? e.message : `${errorMessage(e)} (${String((e as { code?: unknown }).code ?? 'unknown')})`;
    this.totals.set(part, (this.totals.get(part) ?? 0) + 1);
    const known = this.faults.get(part);
    if (known !== undefined) {
      known.failures += 1;
      known.code = code;
      known.op = op;
      known.error = error;
    } else {
      this.faults.set(part, { code, op, error, since: this.now(), failures: 1 });
      // One line when the part goes down, one when it comes back: a full disk must not fill
      // the journal with a line per refused write.
      this.log.error({ code, part, op, err: error }, `store ${part} ${op} failed: ${MEANING[code] ?? 'store error'}; ${part} degraded until it succeeds again`);
    }
    this.arm();
    return e instanceof FieldgateError ? e : new FieldgateError(code, `store ${part} ${op} failed: ${error}`, { cause: e });
  }

  /**
   * A write of `part` went through. With a probe, that alone does not clear the part: on a
   * nearly full disk small writes pass between refused big ones, and /health would flap. The
   * retry timer clears it once the probe's 64 KiB commit.
   */
  succeeded(part: StorePart): void {
    if (this.probe === undefined) this.clear(part);
  }

  private clear(part: StorePart): void {
    const f = this.faults.get(part);
    if (f === undefined) return;
    this.faults.delete(part);
    this.log.info({ part, failures: f.failures, downMs: this.now() - f.since }, `store ${part} writes resumed`);
  }

  /**
   * Runs a write that nobody else retries. On a store error it is reported, kept under `key`
   * (a newer write with the same key replaces it) and tried again until it succeeds; the caller
   * carries on. Anything that is not a store error is thrown as before.
   */
  write(part: StorePart, op: string, key: string, run: () => void): void {
    const id = `${part}\u0000${key}`;
    try {
      run();
      this.retries.delete(id);
      this.succeeded(part);
    } catch (e) {
      if (storeErrorCode(e) === undefined) throw e;
      this.retries.set(id, { part, run });
      this.failed(part, op, e);
    }
  }

  /** Forgets a kept write (its subject is gone, e.g. a session deleted). */
  forget(part: StorePart, key: string): void {
    this.retries.delete(`${part}\u0000${key}`);
  }

  get degraded(): boolean {
    return this.faults.size > 0;
  }

  /** For /health: `degraded` while any part is failing, with its code and since when. */
  health(): { status: 'ok' | 'degraded'; faults?: Record<string, Fault & { pendingWrites: number }>; failedWrites?: Record<string, number> } {
    const failedWrites = Object.fromEntries(this.totals);
    if (this.faults.size === 0) return this.totals.size > 0 ? { status: 'ok', failedWrites } : { status: 'ok' };
    const faults: Record<string, Fault & { pendingWrites: number }> = {};
    for (const [part, f] of this.faults) {
      faults[part] = { ...f, pendingWrites: [...this.retries.values()].filter((r) => r.part === part).length };
    }
    return { status: 'degraded', faults, failedWrites };
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setInterval(() => this.retryKept(), this.retryEveryMs);
    this.timer.unref();
  }

  private retryKept(): void {
    for (const [id, r] of [...this.retries]) {
      try {
        r.run();
        this.retries.delete(id);
      } catch {
        return; // still down: try again next time, in the same order
      }
    }
    // Every kept write went through. Parts that keep none (the outbox, the journal, retained
    // messages) are cleared by their own next write, or here once a probe the size of a big
    // write commits: /health must not stay degraded because no command came in since.
    if (this.faults.size > 0) {
      try {
        this.probe?.();
      } catch {
        return;
      }
      for (const part of [...this.faults.keys()]) this.clear(part);
    }
    if (this.faults.size === 0 && this.retries.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
