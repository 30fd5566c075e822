// `fieldgate run` and `fieldgate demo`: the gateway on a site file until a signal stops it,
// with systemd notifications and SIGHUP reloads. Exit codes as in cli.ts.
import { builtinDrivers } from '../drivers/all.js';
import { ConfigError, loadConfigFile } from './config/load.js';
import type { GatewayConfig } from './config/schema.js';
import { exitOnCrash } from './shared/exit-on-crash.js';
import { redactSecrets } from './shared/redact.js';
import { applyDemoPorts, busyPortHint, type DemoPorts } from './demo-ports.js';
import { errorMessage } from './errors.js';
import { Gateway } from './gateway.js';
import { createLogger, type LogLevel } from './observe/logger.js';
import { SystemdNotifier } from './observe/sd-notify-service.js';
import { reloadOnSignal } from './reload-signal.js';

const EXIT_OK = 0;
const EXIT_RUNTIME = 1;
const EXIT_USAGE = 2;

export async function run(file: string, logLevel: LogLevel | undefined, demoPorts?: DemoPorts): Promise<number> {
  let config;
  try {
    config = loadConfigFile(file, builtinDrivers);
    if (demoPorts !== undefined) config = applyDemoPorts(config, demoPorts);
  } catch (e) {
    process.stderr.write(e instanceof ConfigError ? `${e.message}\n` : `${file}: ${errorMessage(e)}\n`);
    return EXIT_USAGE;
  }
  const logger = createLogger({ level: logLevel ?? config.observe.logLevel });
  const gateway = new Gateway({ config, drivers: builtinDrivers, logger });
  const systemd = new SystemdNotifier({ logger });

  let stopping: Promise<void> | undefined;
  const stop = (signal: string): void => {
    if (stopping !== undefined) {
      // A second Ctrl-C means "now": the operator has decided not to wait for a clean stop.
      logger.warn({ signal }, 'second signal: exiting at once');
      process.exit(130);
    }
    logger.info({ signal }, 'stopping');
    systemd.stopping();
    // A stop that cannot finish in 2 s has a stuck part; exit anyway, but say so. unref():
    // this timer must not be what keeps a clean shutdown alive.
    setTimeout(() => {
      logger.error('shutdown took longer than 2 s; forcing exit');
      process.exit(EXIT_RUNTIME);
    }, 2000).unref();
    stopping = gateway.stop().then(
      () => {
        process.off('SIGINT', onSigint);
        process.off('SIGTERM', onSigterm);
        process.off('SIGHUP', onSighup);
        process.exitCode = EXIT_OK;
      },
      (e: unknown) => {
        logger.error({ err: e }, 'shutdown failed');
        process.exitCode = EXIT_RUNTIME;
      },
    );
  };
  exitOnCrash(logger, EXIT_RUNTIME);
  const onSigint = (): void => stop('SIGINT');
  const onSigterm = (): void => stop('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  // SIGHUP reloads the site file (issue 20); without a handler Node would exit with 129.
  const reload = reloadOnSignal({
    file, gateway, drivers: builtinDrivers, logger,
    ...(demoPorts !== undefined ? { transform: (c: GatewayConfig) => applyDemoPorts(c, demoPorts) } : {}),
  });
  let reloadChain = Promise.resolve();
  const onSighup = (): void => {
    if (stopping !== undefined) return;
    reloadChain = reloadChain.then(reload);
  };
  process.on('SIGHUP', onSighup);

  try {
    systemd.starting(gateway.storeFile);
    await gateway.start();
  } catch (e) {
    logger.fatal({ err: e }, 'gateway failed to start');
    const hint = demoPorts !== undefined ? busyPortHint(config, e) : undefined;
    if (hint !== undefined) process.stderr.write(`fieldgate demo: ${hint}\n`);
    systemd.failed(redactSecrets(errorMessage(e)));
    await gateway.stop().catch(() => undefined);
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    process.off('SIGHUP', onSighup);
    return EXIT_RUNTIME;
  }
  // start() resolves once the broker and /health listen, the store is open and every device
  // supervisor runs: that is "serving". Field devices and the upstream link connect in the
  // background and may take minutes (or never, for a PLC that is switched off); readiness waiting
  // on them would turn a dead PLC into a failed boot. A signal during start() wins.
  if (stopping === undefined) systemd.ready(gateway.health);
  // Returning lets the process end by itself once every part has closed its handles.
  return EXIT_OK;
}
