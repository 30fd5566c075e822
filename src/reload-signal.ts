// What SIGHUP does (issue 20; `systemctl reload fieldgate` sends it): read and validate the
// site file again. Invalid: log every problem with file:line:col, count it, keep running on
// the old config. Valid: hand it to the gateway's reload. Never exits.
import { ConfigError, formatIssue, loadConfigFile } from './config/load.js';
import type { GatewayConfig } from './config/schema.js';
import { errorMessage } from './errors.js';
import type { Gateway } from './gateway.js';
import type { Logger } from './observe/logger.js';
import type { DriverFactory } from './runtime/driver.js';

export interface ReloadSignalOptions {
  file: string;
  gateway: Gateway;
  drivers: readonly DriverFactory[];
  logger: Logger;
  /** Applied to the loaded file before use (the demo's port flags). */
  transform?: (config: GatewayConfig) => GatewayConfig;
}

export function reloadOnSignal(o: ReloadSignalOptions): () => Promise<void> {
  const reloads = o.gateway.metrics.counter('fieldgate_config_reloads_total', 'SIGHUP reloads by result (applied, invalid, failed)');
  return async () => {
    o.logger.info({ file: o.file }, 'reload requested');
    let next: GatewayConfig;
    try {
      next = loadConfigFile(o.file, o.drivers);
      if (o.transform !== undefined) next = o.transform(next);
    } catch (e) {
      reloads.inc({ result: 'invalid' });
      if (e instanceof ConfigError) {
        for (const issue of e.issues) {
          o.logger.error({ code: e.code, file: issue.file, line: issue.line, col: issue.col, path: issue.path }, formatIssue(issue));
        }
      }
      o.logger.error({ code: 'FG_ERR_CONFIG', err: errorMessage(e), errors: e instanceof ConfigError ? e.issues.length : 1 }, 'reload refused: the file is invalid; still running on the previous config');
      return;
    }
    try {
      await o.gateway.reload(next);
      reloads.inc({ result: 'applied' });
    } catch (e) {
      reloads.inc({ result: 'failed' });
      o.logger.error({ err: errorMessage(e) }, 'reload failed part-way; devices not yet switched keep the previous config');
    }
  };
}
