import { afterEach } from 'vitest';

/**
 * What a test pushes here runs after it, newest first, each awaited: the one cleanup list
 * (servers, stores, temp dirs) instead of a copy per file. Call at the top of a file or a
 * describe block, where an afterEach would go.
 */
export function useCleanups(options: { ignoreErrors?: boolean } = {}): Array<() => unknown> {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) {
      // ignoreErrors: a cleanup whose peer is already gone (killed on purpose) must not fail the test.
      if (options.ignoreErrors === true) await Promise.resolve(c()).catch(() => undefined);
      else await c();
    }
  });
  return cleanups;
}
