// `fieldgate <driver> <command> ...`: subcommands a driver declares itself (issue 20), such as
// `fieldgate modbus read` or `fieldgate opcua read`. The command line only dispatches here;
// what a command does lives in its driver's folder.
import { parseArgs } from 'node:util';
import { errorMessage, isFieldgateError } from './errors.js';
import { createLogger, LOG_LEVELS, type LogLevel } from './observe/logger.js';
import type { DriverCommand, DriverFactory } from './runtime/driver.js';
import { probeRawDevice } from './probe/run-probe.js';

export function findDriverCommand(drivers: readonly DriverFactory[], argv: readonly string[]): { driver: DriverFactory; command: DriverCommand } | undefined {
  const driver = drivers.find((d) => d.type === argv[0]);
  const command = driver?.commands?.find((c) => c.name === argv[1]);
  return driver !== undefined && command !== undefined ? { driver, command } : undefined;
}

/** Usage lines of every driver command, for `fieldgate --help`. */
export function driverCommandsUsage(drivers: readonly DriverFactory[]): string {
  return drivers
    .flatMap((d) => (d.commands ?? []).map((c) => `  ${d.type} ${c.name} ${c.usage}`))
    .join('\n');
}

export async function runDriverCommand(drivers: readonly DriverFactory[], driver: DriverFactory, command: DriverCommand, args: string[]): Promise<number> {
  const err = (line: string): void => void process.stderr.write(`${line}\n`);
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { ...command.options, 'log-level': { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (e) {
    err(`fieldgate ${driver.type} ${command.name}: ${errorMessage(e)}\nusage: fieldgate ${driver.type} ${command.name} ${command.usage}`);
    return 2;
  }
  if (parsed.values.help === true) {
    process.stdout.write(`usage: fieldgate ${driver.type} ${command.name} ${command.usage}\n`);
    return 0;
  }
  const level = parsed.values['log-level'];
  if (level !== undefined && !(LOG_LEVELS as readonly string[]).includes(String(level))) {
    err(`fieldgate: --log-level must be one of ${LOG_LEVELS.join(', ')}`);
    return 2;
  }
  // Logs go to stderr: stdout is the command's answer.
  const logger = createLogger({ level: (level as LogLevel | undefined) ?? 'warn', destination: process.stderr });
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await command.run({
      positionals: parsed.positionals,
      values: parsed.values as Record<string, string | boolean | undefined>,
      probe: (device) => probeRawDevice(device, { drivers, out, err, logger }),
      out,
      err,
      logger,
      stopped: stop.signal,
    });
  } catch (e) {
    err(`fieldgate ${driver.type} ${command.name}: ${errorMessage(e)}`);
    return isFieldgateError(e, 'FG_ERR_USAGE') ? 2 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Every driver's browse flags, for the command line's one parse (they are strings). */
export function driverBrowseOptions(drivers: readonly DriverFactory[]): Record<string, { type: 'string' }> {
  return Object.assign({}, ...drivers.map((d) => d.browseOptions ?? {})) as Record<string, { type: 'string' }>;
}

/** `fieldgate --help` lines under `DRIVER browse TARGET`, indented to the help column. */
export function driverBrowseUsage(drivers: readonly DriverFactory[]): string {
  return drivers
    .flatMap((d) => (d.browseUsage === undefined ? [] : d.browseUsage.split('\n')))
    .map((line) => `${' '.repeat(24)}${line}`)
    .join('\n');
}

const camelCase = (flag: string): string => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** `fieldgate <driver> browse TARGET [--root ID] [--depth N]` plus the driver's own flags. */
export async function runDriverBrowse(
  driver: DriverFactory,
  args: string[],
  values: Record<string, string | boolean | undefined>,
  logLevel: LogLevel | undefined,
): Promise<number> {
  const [target, ...extraArgs] = args;
  if (driver.browse === undefined) {
    process.stderr.write(`fieldgate: driver ${driver.type} cannot browse\n`);
    return 2;
  }
  if (target === undefined || extraArgs.length > 0) {
    process.stderr.write(`fieldgate: usage: fieldgate ${driver.type} browse TARGET [--root ID] [--depth N]\n`);
    return 2;
  }
  const depth = values.depth === undefined ? undefined : Number(values.depth);
  if (depth !== undefined && (!Number.isInteger(depth) || depth < 0)) {
    process.stderr.write('fieldgate: --depth must be a whole number\n');
    return 2;
  }
  const extra: Record<string, string> = {};
  for (const flag of Object.keys(driver.browseOptions ?? {})) {
    const value = values[flag];
    if (typeof value === 'string') extra[camelCase(flag)] = value;
  }
  // Logs go to stderr: stdout is the YAML block the operator pastes.
  const logger = createLogger({ level: logLevel ?? 'warn', destination: process.stderr });
  const root = typeof values.root === 'string' ? values.root : undefined;
  try {
    process.stdout.write(await driver.browse(target, { root, depth, extra, logger }));
    return 0;
  } catch (e) {
    process.stderr.write(`fieldgate: ${errorMessage(e)}\n`);
    return isFieldgateError(e, 'FG_ERR_USAGE') ? 2 : 1;
  }
}
