#!/usr/bin/env node
// fieldgate's command line. Exit codes: 0 ok, 2 bad config or usage, 1 runtime failure.
// This is the one place that writes to stdout/stderr directly: validation results and the
// JSON Schema are command output, not log events.
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { builtinDrivers } from '../drivers/all.js';
import { ConfigError, loadConfigFile } from './config/load.js';
import { configJsonSchema } from './config/schema.js';
import { driverBrowseOptions, driverBrowseUsage, driverCommandsUsage, findDriverCommand, runDriverBrowse, runDriverCommand } from './driver-commands.js';
import { parsePortFlag, type DemoPorts } from './demo-ports.js';
import { errorMessage, isFieldgateError } from './errors.js';
import { HOST_FLAGS } from './host/flags.js';
import { run } from './run-command.js';
import { createLogger, LOG_LEVELS, type LogLevel } from './observe/logger.js';
import { packageRoot, packageVersion } from './package-root.js';

const USAGE = `usage: fieldgate <command> [options]

commands:
  run --config FILE     run the gateway on a site file
  demo                  run the embedded demo (config/demo.yaml, data in ./data);
                        --mqtt-port N and --http-port N move it off 1883 / 8080 (0: any free port)
  validate FILE...      check site files; prints every problem as FILE:LINE:COL: field: message
  probe --config FILE [--device NAME] [--tag NAME]
                        connect, read every tag once and print one row per tag: address, raw
                        words/bytes, value, quality and the reason when not GOOD (no broker,
                        no store, no upstream); exit 0 all GOOD, 1 otherwise, 2 bad file
  schema [--host]       print the site file's (or host file's) JSON Schema (draft 2020-12) for editors
  backup --config FILE DEST
                        copy the store consistently while the gateway runs (a new
                        file; restoring it starts a new dedup epoch)
  passwd                print an scrypt hash for broker.users[].passwordHash; the password is
                        read from stdin (never from the command line)
  host run|export|write the central Sparkplug primary host and historian
                        (fieldgate host --help; its own file with a host: section)
  watch                 print a Sparkplug stream decoded, one JSON line per message
                        (--url mqtt://127.0.0.1:1883, --topic 'spBv1.0/#', --rebirth)
  DRIVER browse TARGET  list what a device offers as a tags: block, e.g.
${driverBrowseUsage(builtinDrivers)}
  version               print the version

driver commands (ad-hoc reads without a site file):
${driverCommandsUsage(builtinDrivers)}

options:
  -c, --config FILE     site file for run
  --log-level LEVEL     one of ${LOG_LEVELS.join(', ')} (overrides observe.logLevel)
  -v, --version         print the version
  -h, --help            this text
`;

const EXIT_OK = 0;
const EXIT_RUNTIME = 1;
const EXIT_USAGE = 2;

async function main(argv: string[]): Promise<number> {
  // `fieldgate modbus read ...`: a driver's own subcommand parses its own flags.
  const driverCommand = findDriverCommand(builtinDrivers, argv);
  if (driverCommand !== undefined) return runDriverCommand(builtinDrivers, driverCommand.driver, driverCommand.command, argv.slice(2));
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        // --config, --log-level and the flags of `fieldgate host export|write` (issue 14), which
        // src/host/cli.ts parses again from the raw arguments.
        ...HOST_FLAGS,
        version: { type: 'boolean', short: 'v' },
        help: { type: 'boolean', short: 'h' },
        root: { type: 'string' },
        depth: { type: 'string' },
        ...driverBrowseOptions(builtinDrivers),
        url: { type: 'string' },
        topic: { type: 'string' },
        rebirth: { type: 'boolean' },
        'mqtt-port': { type: 'string' },
        tag: { type: 'string' },
        'http-port': { type: 'string' },
        host: { type: 'boolean' },
      },
    });
  } catch (e) {
    process.stderr.write(`fieldgate: ${errorMessage(e)}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.version === true || command === 'version') {
    process.stdout.write(`fieldgate ${packageVersion()}\n`);
    return EXIT_OK;
  }
  if (values.help === true || command === 'help') {
    process.stdout.write(USAGE);
    return EXIT_OK;
  }
  const logLevel = values['log-level'];
  if (logLevel !== undefined && !(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    process.stderr.write(`fieldgate: --log-level must be one of ${LOG_LEVELS.join(', ')}\n`);
    return EXIT_USAGE;
  }

  switch (command) {
    case 'run':
      if (values.config === undefined) {
        process.stderr.write(`fieldgate: run needs --config FILE\n\n${USAGE}`);
        return EXIT_USAGE;
      }
      return run(resolve(values.config), logLevel as LogLevel | undefined);
    case 'demo': {
      let ports: DemoPorts;
      try {
        ports = { mqttPort: parsePortFlag('--mqtt-port', values['mqtt-port']), httpPort: parsePortFlag('--http-port', values['http-port']) };
      } catch (e) {
        process.stderr.write(`fieldgate: ${errorMessage(e)}\n`);
        return EXIT_USAGE;
      }
      return run(join(packageRoot(), 'config', 'demo.yaml'), logLevel as LogLevel | undefined, ports);
    }
    case 'validate':
      return validate(rest);
    case 'probe': {
      if (values.config === undefined || rest.length > 0) {
        process.stderr.write('fieldgate: usage: fieldgate probe --config FILE [--device NAME] [--tag NAME]\n');
        return EXIT_USAGE;
      }
      const { probeFile } = await import('./probe/run-probe.js');
      return probeFile(resolve(values.config), { device: values.device, tag: values.tag }, {
        drivers: builtinDrivers,
        out: (line) => process.stdout.write(`${line}\n`),
        err: (line) => process.stderr.write(`${line}\n`),
        logger: createLogger({ level: (logLevel as LogLevel | undefined) ?? 'warn', destination: process.stderr }),
      });
    }
    case 'host': {
      const { hostCommand } = await import('./host/cli.js');
      return hostCommand(argv.slice(1), logLevel as LogLevel | undefined);
    }
    case 'backup':
      return backup(values.config, rest);
    case 'passwd': {
      const { hashPassword } = await import('./broker/index.js');
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      // One trailing newline is what `echo` and editors add; it is never part of a password.
      const password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
      if (password === '') {
        process.stderr.write('fieldgate passwd: give the password on stdin, e.g. read -s PW && printf %s "$PW" | fieldgate passwd\n');
        return EXIT_USAGE;
      }
      process.stdout.write(`${await hashPassword(password)}\n`);
      return EXIT_OK;
    }
    case 'watch': {
      const { watch } = await import('./watch.js');
      // `fieldgate watch | head` closes the pipe: that is the reader saying "enough", not an error.
      process.stdout.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'EPIPE') process.exit(EXIT_OK);
      });
      const w = watch({
        url: values.url ?? 'mqtt://127.0.0.1:1883',
        topic: values.topic ?? 'spBv1.0/#',
        rebirth: values.rebirth === true,
        write: (line) => process.stdout.write(line + '\n'),
        onError: (m) => process.stderr.write(`fieldgate watch: ${m}\n`),
      });
      const end = (): void => void w.stop();
      process.once('SIGINT', end);
      process.once('SIGTERM', end);
      return EXIT_OK;
    }
    case 'schema':
      if (values.host === true) {
        const { hostJsonSchema } = await import('./config/sections/host.js');
        process.stdout.write(JSON.stringify(hostJsonSchema(), null, 2) + '\n');
        return EXIT_OK;
      }
      process.stdout.write(JSON.stringify(configJsonSchema(builtinDrivers), null, 2) + '\n');
      return EXIT_OK;
    case undefined:
      process.stderr.write(USAGE);
      return EXIT_USAGE;
    default: {
      const driver = builtinDrivers.find((d) => d.type === command);
      if (driver !== undefined && rest[0] === 'browse') return runDriverBrowse(driver, rest.slice(1), values, logLevel as LogLevel | undefined);
      process.stderr.write(`fieldgate: unknown command "${command}"\n\n${USAGE}`);
      return EXIT_USAGE;
    }
  }
}

async function validate(files: string[]): Promise<number> {
  if (files.length === 0) {
    process.stderr.write('fieldgate: validate needs at least one FILE\n');
    return EXIT_USAGE;
  }
  const { validateFile } = await import('./validate-file.js');
  let bad = 0;
  for (const file of files) {
    const result = await validateFile(file, builtinDrivers);
    if (result.ok) {
      process.stdout.write(`${result.line}\n`);
    } else {
      bad += 1;
      process.stderr.write(`${result.message}\n`);
    }
  }
  return bad === 0 ? EXIT_OK : EXIT_USAGE;
}

async function backup(configFile: string | undefined, args: string[]): Promise<number> {
  const [dest, ...extra] = args;
  if (configFile === undefined || dest === undefined || extra.length > 0) {
    process.stderr.write('fieldgate: usage: fieldgate backup --config FILE DEST\n');
    return EXIT_USAGE;
  }
  let config;
  try {
    config = loadConfigFile(resolve(configFile), builtinDrivers);
  } catch (e) {
    process.stderr.write(e instanceof ConfigError ? `${e.message}\n` : `${configFile}: ${errorMessage(e)}\n`);
    return EXIT_USAGE;
  }
  const { backupStore } = await import('./store/backup.js');
  const { storeSchema } = await import('./config/sections/store.js');
  try {
    const summary = backupStore(resolve((config.store ?? storeSchema.parse({})).path), resolve(dest));
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return EXIT_OK;
  } catch (e) {
    process.stderr.write(`fieldgate backup: ${errorMessage(e)}\n`);
    return isFieldgateError(e, 'FG_ERR_USAGE') ? EXIT_USAGE : EXIT_RUNTIME;
  }
}

// One-shot reads end when their answer is printed: a protocol stack may still hold a socket or
// timer (node-opcua's reconnection, a connect that outlived its timeout) that must not keep
// the operator waiting.
const ONE_SHOT = new Set(['probe']);
const oneShot = (argv: string[]): boolean => ONE_SHOT.has(argv[0] ?? '') || findDriverCommand(builtinDrivers, argv) !== undefined;

main(process.argv.slice(2)).then(
  (code) => {
    if (oneShot(process.argv.slice(2))) process.exit(code);
    if (code !== EXIT_OK) process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`fieldgate: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = EXIT_RUNTIME;
  },
);
