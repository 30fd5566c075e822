// The one place node-opcua is imported. A dynamic import inside start(), never a static one,
// so a gateway without OPC UA devices never loads it; drivers/opcua/lazy-load.test.ts proves it
// on the built CLI. Only the client half of the SDK: the full `node-opcua` also loads the server
// and its address-space nodesets (measured on Node 20: 73 MiB and 544 ms for the full SDK, 62 MiB
// and 318 ms for node-opcua-client; the package drops 26 MiB of nodesets). The full SDK stays a
// dev dependency for the test server (drivers/opcua/testing/server.mjs).
import { format } from 'node:util';
import type * as OpcuaClient from 'node-opcua-client';
import type * as OpcuaPki from 'node-opcua-certificate-manager';
import type { Logger } from '../../src/observe/logger.js';
import { FieldgateError, errorMessage } from '../../src/errors.js';

export type OpcuaModule = typeof OpcuaClient & Pick<typeof OpcuaPki, 'OPCUACertificateManager'>;

let routed = false;

export async function loadOpcua(logger: Logger): Promise<OpcuaModule> {
  let ua: OpcuaModule;
  try {
    // node-opcua is CommonJS: its named exports sit on the default export under ESM.
    const client = (await import('node-opcua-client')) as typeof OpcuaClient & { default?: typeof OpcuaClient };
    const pki = (await import('node-opcua-certificate-manager')) as typeof OpcuaPki & { default?: typeof OpcuaPki };
    ua = { ...(client.default ?? client), OPCUACertificateManager: (pki.default ?? pki).OPCUACertificateManager };
  } catch (e) {
    throw new FieldgateError('FG_ERR_OPCUA_UNAVAILABLE', `node-opcua is not installed (it is an optional dependency): ${errorMessage(e)}`, { cause: e });
  }
  if (!routed) {
    // node-opcua prints to the console by default; its lines go to the gateway log instead,
    // one structured line each. Process-wide, like node-opcua's own loggers.
    routed = true;
    const log = logger.child({ component: 'node-opcua' });
    ua.setDebugLogger((...args: unknown[]) => log.trace(format(...args)));
    ua.setWarningLogger((...args: unknown[]) => log.debug(format(...args)));
    ua.setErrorLogger((...args: unknown[]) => log.debug(format(...args)));
  }
  return ua;
}
