// What the .deb carries (issue 15): no test code, test peers, fixtures, type declarations or
// source maps, ours or the dependencies'; a real Maintainer; and the same bytes when built again
// from the same tree (SOURCE_DATE_EPOCH, fixed mtimes, sorted members).
// Needs `npm run package` first; the rebuild takes the addon cache that build left in pkg/.cache.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const debPath = (arch: string, dir = join(ROOT, 'pkg', 'out')): string => join(dir, `fieldgate_${VERSION}_${arch}.deb`);

function members(deb: string): string[] {
  if (!existsSync(deb)) throw new Error(`${deb} is missing: run npm run package first`);
  const r = spawnSync('dpkg-deb', ['--contents', deb], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim().split('\n').map((line) => line.slice(line.indexOf('./')));
}

/** Paths that are test code, test support or build-time only, anywhere in the tree. */
const NOT_SHIPPED = [
  /\.test\.[cm]?[jt]s$/, /\.spec\.[cm]?[jt]s$/, /\/(test|tests|__tests__|testing|fixtures?|peers)\//,
  /-fixture\.js$/, /-suite\.js$/, /\.d\.[cm]?ts$/, /\.map$/, /\/@types\//, /\/app\/dist\/test\//,
];

describe('package contents', () => {
  for (const arch of ['amd64', 'arm64']) {
    it(`${arch}: carries no test code, types or source maps`, () => {
      const files = members(debPath(arch));
      expect(files.length).toBeGreaterThan(1000);
      expect(files.filter((f) => NOT_SHIPPED.some((re) => re.test(f)))).toEqual([]);
      // The runtime's own parts are there: the CLI and the OPC UA client (not the server SDK).
      expect(files).toContain('./usr/lib/fieldgate/app/dist/src/cli.js');
      expect(files.some((f) => f.includes('/node_modules/node-opcua-client/'))).toBe(true);
      expect(files.filter((f) => /\/node_modules\/node-opcua(-server|-nodesets|-address-space)\//.test(f))).toEqual([]);
    });
  }

  it('names a real Maintainer', () => {
    const r = spawnSync('dpkg-deb', ['--field', debPath('amd64'), 'Maintainer'], { encoding: 'utf8' });
    expect(r.stdout.trim()).toMatch(/^[^<>]+ <[^@\s]+@[^@\s]+\.[a-z]{2,}>$/);
    expect(r.stdout).not.toMatch(/localhost|example\.(com|org)/);
  });

  it('is reproducible: a second build of the same tree gives the same bytes', () => {
    const out = mkdtempSync(join(tmpdir(), 'fg-deb-again-'));
    try {
      const r = spawnSync('bash', [join(ROOT, 'pkg', 'build.sh')], {
        cwd: ROOT, encoding: 'utf8', timeout: 25 * 60_000,
        env: { ...process.env, FIELDGATE_ARCHES: 'amd64', FIELDGATE_OUT: out },
      });
      expect(r.status, r.stderr.slice(-2000)).toBe(0);
      const again = readFileSync(debPath('amd64', out));
      const first = readFileSync(debPath('amd64'));
      expect(again.length).toBe(first.length);
      expect(again.equals(first)).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 30 * 60_000);
});
