// SQLite's error codes as the outbox's FG_ERR_ codes (issue 19): a full disk, a write that the
// storage refused and a damaged file each get their own code and a message that says nothing
// was accepted, so the caller (append queue, bridge) and the operator know the record is not
// durable. Anything that is not a SQLite error is passed through unchanged.
import { FieldgateError, errorMessage } from '../errors.js';

/** `op`: the outbox operation that failed (append, ack, expire, read). */
export function translateOutboxError(op: string, e: unknown): unknown {
  const code = (e as { code?: unknown }).code;
  if (code === 'SQLITE_FULL') {
    return new FieldgateError('FG_ERR_STORE_DISK_FULL', `outbox ${op} refused: the disk or the store's size limit is full (${errorMessage(e)}); nothing was accepted`, { cause: e });
  }
  if (code === 'SQLITE_IOERR_WRITE' || code === 'SQLITE_IOERR_FSYNC' || code === 'SQLITE_IOERR_TRUNCATE') {
    // EFBIG (file-size limit) and some full-disk paths arrive as write errors, not FULL.
    return new FieldgateError(
      'FG_ERR_STORE_IO',
      `outbox ${op} failed: cannot write the store file (disk full, file-size limit or failing storage): ${errorMessage(e)} (${code}); nothing was accepted`,
      { cause: e },
    );
  }
  if (typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB')) {
    return new FieldgateError('FG_ERR_STORE_DAMAGED', `outbox ${op} failed: the store file is damaged: ${errorMessage(e)} (${code})`, { cause: e });
  }
  if (typeof code === 'string' && code.startsWith('SQLITE_')) {
    return new FieldgateError('FG_ERR_STORE_IO', `outbox ${op} failed: ${errorMessage(e)} (${code})`, { cause: e });
  }
  return e;
}
