import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';

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

/**
 * A scratch directory for a whole file, made before its first test and removed after its last
 * (after the file's own afterAll hooks, which may still close stores in it). Returns the path of
 * `name` inside it. Call at the top of the file.
 */
export function useScratchDir(prefix: string): (name: string) => string {
  let dir: string | undefined;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });
  return (name) => {
    if (dir === undefined) throw new Error('a scratch path asked for outside the tests');
    return join(dir, name);
  };
}
