import { FieldgateError } from '../errors.js';
import type { Clock } from '../shared/clock.js';

/**
 * Runs `work` with an AbortSignal that fires after `ms`, and rejects at that moment even if
 * the work ignores the signal: a driver stuck in a half-open socket must not hold its device.
 */
export function withTimeout<T>(
  clock: Clock,
  ms: number,
  what: string,
  work: (signal: AbortSignal) => Promise<T>,
  halt?: AbortSignal,
): Promise<T> {
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    // `halt` is the owner shutting down: end the work now rather than at its timeout.
    const onHalt = (): void => {
      clock.clearTimeout(timer);
      const err = new FieldgateError('FG_ERR_DEVICE_IO', `${what} cancelled: stopping`);
      controller.abort(err);
      reject(err);
    };
    const timer = clock.setTimeout(() => {
      halt?.removeEventListener('abort', onHalt);
      const err = new FieldgateError('FG_ERR_DEVICE_TIMEOUT', `${what} timed out after ${ms} ms`);
      controller.abort(err);
      reject(err);
    }, ms);
    if (halt?.aborted === true) return onHalt();
    halt?.addEventListener('abort', onHalt, { once: true });
    const done = (): void => {
      clock.clearTimeout(timer);
      halt?.removeEventListener('abort', onHalt);
    };
    let p: Promise<T>;
    try {
      p = work(controller.signal);
    } catch (e) {
      done();
      reject(e);
      return;
    }
    p.then(
      (v) => {
        done();
        resolve(v);
      },
      (e: unknown) => {
        done();
        reject(e);
      },
    );
  });
}
