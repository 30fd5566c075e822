// The one place node-opcua is imported. A dynamic import inside start(), never a static one,
// so a gateway without OPC UA devices never loads it (about 100 MB RSS and 0.5 s once loaded);
// drivers/opcua/lazy-load.test.ts proves it on the built CLI.
import { format } from 'node:util';
import type * as Opcua from 'node-opcua';
import type { Logger } from '../../src/observe/logger.js';
import { FieldgateError, errorMessage } from '../../src/errors.js';

export type OpcuaModule = typeof Opcua;

let routed = false;

export async function loadOpcua(logger: Logger): Promise<OpcuaModule> {
  let ua: OpcuaModule;
  try {
    // node-opcua is CommonJS: its named exports sit on the default export under ESM.
    const mod = (await import('node-opcua')) as OpcuaModule & { default?: OpcuaModule };
    ua = mod.default ?? mod;
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
