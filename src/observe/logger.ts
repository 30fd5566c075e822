import { createRequire } from 'node:module';
import { pino, type Logger, type LevelWithSilent } from 'pino';
import type PinoPretty from 'pino-pretty';
import { redactSecrets, redactValue } from '../shared/redact.js';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = LevelWithSilent;

export interface LoggerOptions {
  level?: LogLevel;
  /** Human-readable lines; default: when stdout is a TTY. journald gets JSON. */
  pretty?: boolean;
  /** Where JSON lines go; default stdout. Tests pass a stream to read the lines back. */
  destination?: NodeJS.WritableStream;
}

// Secrets reach config objects through ${env:...} / ${file:...}; if anyone ever logs a config
// fragment, these keys are censored rather than written to journald.
const REDACT = [
  'password', 'passphrase', 'secret', 'token', 'key',
  '*.password', '*.passphrase', '*.secret', '*.token', '*.key',
  '*.*.password', '*.*.passphrase', '*.*.secret', '*.*.token', '*.*.key',
];

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const usePretty = options.pretty ?? (options.destination === undefined && process.stdout.isTTY === true);
  const base = {
    level,
    redact: { paths: REDACT, censor: '[redacted]' },
    base: { pid: process.pid },
    // Issue 19: URL passwords and resolved ${env:}/${file:} values are masked in every field
    // and message of every line, whoever logs them.
    formatters: { log: (obj: Record<string, unknown>) => redactValue(obj) as Record<string, unknown> },
    hooks: {
      logMethod(this: Logger, args: unknown[], method: (...a: unknown[]) => void): void {
        method.apply(this, args.map((a) => (typeof a === 'string' ? redactSecrets(a) : a)));
      },
    },
  };
  if (usePretty) {
    // pino-pretty as an in-process stream, not a transport: no worker thread on a small box.
    // Loaded only here: under systemd (JSON to journald) it would be megabytes for nothing.
    const pretty = createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
    return pino(base, pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true, sync: true }));
  }
  if (options.destination !== undefined) return pino(base, options.destination);
  return pino(base, pino.destination({ dest: 1, sync: true }));
}

/** A logger that writes nothing: for tests and library use where no logger was given. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
