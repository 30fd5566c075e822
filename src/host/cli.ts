// `fieldgate host run|export|write` (issue 14). Exit codes as the gateway's: 0 ok, 2 bad
// config or usage, 1 runtime failure. Command output goes to stdout, logs (pino) to stderr
// for export/write and stdout for run.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/load.js';
import type { HostFile } from '../config/sections/host.js';
import { errorMessage, isFieldgateError } from '../errors.js';
import { createLogger, type LogLevel } from '../observe/logger.js';
import { exitOnCrash } from '../shared/exit-on-crash.js';
import { exportHistory, parseTime, type ExportFormat } from './export.js';
import { HOST_FLAGS } from './flags.js';
import { Host } from './host.js';
import { loadHostConfigFile } from './config.js';
import { openHistory } from './open-history.js';
import { hostWrite, parseWriteTarget } from './write.js';

export const HOST_USAGE = `usage:
  fieldgate host run --config host.yaml
  fieldgate host export --config host.yaml [--node G/N] [--device D] [--metric M]
                        [--from T] [--to T] [--format csv|jsonl]      (T: ISO 8601 or ms)
  fieldgate host write --config host.yaml G/N[/D] METRIC=VALUE [--timeout 10s]
`;

const EXIT_OK = 0;
const EXIT_RUNTIME = 1;
const EXIT_USAGE = 2;

function load(file: string | undefined): HostFile | number {
  if (file === undefined) {
    process.stderr.write(`fieldgate host: --config FILE is required\n\n${HOST_USAGE}`);
    return EXIT_USAGE;
  }
  try {
    return loadHostConfigFile(resolve(file));
  } catch (e) {
    process.stderr.write(e instanceof ConfigError ? `${e.message}\n` : `${file}: ${errorMessage(e)}\n`);
    return EXIT_USAGE;
  }
}

export async function hostCommand(argv: string[], logLevel: LogLevel | undefined): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: HOST_FLAGS,
    });
  } catch (e) {
    process.stderr.write(`fieldgate host: ${errorMessage(e)}\n\n${HOST_USAGE}`);
    return EXIT_USAGE;
  }
  const { values, positionals } = parsed;
  const [sub, ...rest] = positionals;
  const level = (values['log-level'] as LogLevel | undefined) ?? logLevel;
  if (sub === 'run') {
    const cfg = load(values.config);
    if (typeof cfg === 'number') return cfg;
    return run(cfg, level);
  }
  if (sub === 'export') {
    const cfg = load(values.config);
    if (typeof cfg === 'number') return cfg;
    const format = (values.format ?? 'csv') as ExportFormat;
    const from = values.from === undefined ? undefined : parseTime(values.from);
    const to = values.to === undefined ? undefined : parseTime(values.to);
    if ((format !== 'csv' && format !== 'jsonl') || from === null || (values.from !== undefined && from === undefined) || (values.to !== undefined && to === undefined)) {
      process.stderr.write(`fieldgate host export: --format is csv or jsonl, --from/--to ISO 8601 or ms\n`);
      return EXIT_USAGE;
    }
    const store = await openHistory(cfg.host, createLogger({ level: level ?? 'warn', destination: process.stderr }));
    try {
      process.stdout.on('error', () => undefined);
      await exportHistory(store, { node: values.node, device: values.device, metric: values.metric, from, to }, format, (s) => process.stdout.write(s));
      return EXIT_OK;
    } finally {
      await store.close();
    }
  }
  if (sub === 'write') {
    const cfg = load(values.config);
    if (typeof cfg === 'number') return cfg;
    try {
      const [path, assignment, ...extra] = rest;
      if (path === undefined || assignment === undefined || extra.length > 0) throw parseWriteTarget('', '');
      const target = parseWriteTarget(path, assignment);
      const store = await openHistory(cfg.host);
      const catalogues = await store.catalogues();
      await store.close();
      const cat = catalogues.find(([n]) => n === `${target.group}/${target.node}`)?.[1];
      const { parseDuration } = await import('../config/units.js');
      const r = await hostWrite(cfg.host, cat, target, parseDuration(values.timeout ?? '10s'));
      process.stdout.write(`${JSON.stringify({ written: `${path} ${target.metric}`, value: typeof r.value === 'bigint' ? r.value.toString() : r.value, echoedAfterMs: r.ms })}\n`);
      return EXIT_OK;
    } catch (e) {
      process.stderr.write(`fieldgate host write: ${errorMessage(e)}\n`);
      return isFieldgateError(e, 'FG_ERR_USAGE') ? EXIT_USAGE : EXIT_RUNTIME;
    }
  }
  process.stderr.write(HOST_USAGE);
  return EXIT_USAGE;
}

async function run(cfg: HostFile, level: LogLevel | undefined): Promise<number> {
  const logger = createLogger({ level: level ?? 'info' });
  const host = new Host(cfg.host, logger);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) process.exit(130);
    stopping = true;
    logger.info({ signal }, 'host: stopping');
    setTimeout(() => {
      logger.error('host: shutdown took longer than 5 s; forcing exit');
      process.exit(EXIT_RUNTIME);
    }, 5000).unref();
    host.stop().then(
      () => {
        process.removeAllListeners('SIGINT');
        process.removeAllListeners('SIGTERM');
      },
      (e: unknown) => {
        logger.error({ err: e }, 'host: shutdown failed');
        process.exitCode = EXIT_RUNTIME;
      },
    );
  };
  exitOnCrash(logger, EXIT_RUNTIME);
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  try {
    await host.start();
  } catch (e) {
    logger.fatal({ err: e }, 'host failed to start');
    await host.stop().catch(() => undefined);
    return EXIT_RUNTIME;
  }
  return EXIT_OK;
}
