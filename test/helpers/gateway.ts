// A whole gateway in this process on a site file the test wrote (issue 16: one copy of the
// parse, start and stop-after-the-test steps). Errors in the file name `<dir>/site.yaml`.
import { join } from 'node:path';
import { builtinDrivers } from '../../drivers/all.js';
import { parseConfigText, type LoadOptions } from '../../src/config/load.js';
import { Gateway } from '../../src/gateway.js';
import { silentLogger } from '../../src/observe/logger.js';

/** Starts the gateway of `yaml`; its stop goes on `cleanups`. */
export async function runGateway(yaml: string, dir: string, cleanups: Array<() => unknown>, options: LoadOptions = {}): Promise<Gateway> {
  const config = parseConfigText(yaml, join(dir, 'site.yaml'), builtinDrivers, options);
  const gw = new Gateway({ config, drivers: builtinDrivers, logger: silentLogger() });
  await gw.start();
  cleanups.push(() => gw.stop());
  return gw;
}

/** The port of the gateway's first local-broker listener. */
export const localPort = (gw: Gateway): number => gw.localBroker!.addresses()[0]!.port;
