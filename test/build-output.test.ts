// `npm test` builds dist/ first (tsconfig.json): no test, fixture, peer or contract suite may
// land there, nor in the package built from the same settings (issue 16).
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const TEST_CODE = /(\.test\.js|\.brute\.js|-fixture\.js|-suite\.js)$|\/(testing|peers)\/|^test\//;

describe('build output', () => {
  it.skipIf(!existsSync(DIST))('dist/ holds no test code', () => {
    const files = readdirSync(DIST, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => relative(DIST, join(e.parentPath, e.name)));
    expect(files.length).toBeGreaterThan(50);
    expect(files.filter((f) => TEST_CODE.test(f))).toEqual([]);
  });
});
