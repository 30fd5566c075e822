// A bug that escapes every handler leaves state we cannot reason about: log it and exit
// non-zero so systemd restarts a clean process (the outbox keeps what was accepted). Used by
// `fieldgate run` and `fieldgate host run` (issue 16: one copy).
import type { Logger } from '../observe/logger.js';

export function exitOnCrash(logger: Logger, exitCode: number): void {
  process.on('uncaughtException', (e) => {
    logger.fatal({ err: e }, 'uncaught exception');
    process.exit(exitCode);
  });
  process.on('unhandledRejection', (e) => {
    logger.fatal({ err: e }, 'unhandled promise rejection');
    process.exit(exitCode);
  });
}
