// Building a driver must not take the gateway down (issue 12: containment): a factory that
// throws yields a stand-in whose connect fails with the reason, so the device stays offline
// and its supervisor keeps retrying like for any other connect failure.
import { FieldgateError, errorMessage } from '../errors.js';
import type { Driver, DriverFactory } from './driver.js';

/**
 * The driver, or a stand-in whose connect fails with the reason when `create` throws: a
 * driver that cannot be built keeps its device offline (and retrying), not the gateway down.
 */
export function createContained(factory: DriverFactory, ctx: Parameters<DriverFactory['create']>[0]): Driver {
  try {
    return factory.create(ctx);
  } catch (e) {
    const err = new FieldgateError('FG_ERR_DEVICE_FAULT', `driver ${factory.type} could not be created: ${errorMessage(e)}`, { cause: e });
    ctx.logger.error({ code: err.code, err: err.message }, 'driver creation failed: device stays offline');
    return { start: () => Promise.reject(err), stop: () => Promise.resolve() };
  }
}
