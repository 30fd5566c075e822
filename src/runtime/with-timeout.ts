import { FieldgateError } from '../errors.js';
import type { Clock } from './clock.js';

/**
 * Runs `work` with an AbortSignal that fires after `ms`, and rejects at that moment even if
 * the work ignores the signal: a driver stuck in a half-open socket must not hold its device.
 */
export function withTimeout<T>(clock: Clock, ms: number, what: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => {
      const err = new FieldgateError('FG_ERR_DEVICE_TIMEOUT', `${what} timed out after ${ms} ms`);
      controller.abort(err);
      reject(err);
    }, ms);
    let p: Promise<T>;
    try {
      p = work(controller.signal);
    } catch (e) {
      clock.clearTimeout(timer);
      reject(e);
      return;
    }
    p.then(
      (v) => {
        clock.clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clock.clearTimeout(timer);
        reject(e);
      },
    );
  });
}
