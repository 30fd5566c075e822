// The arm64 package, unpacked and run under qemu-aarch64-static: the runtime, the native
// addons cross-compiled for it, and a short demo prove the package works on a Pi's CPU.
// Needs `npm run package` first, Debian's qemu-user-static and the arm64 cross libraries
// (libc6-arm64-cross, libstdc++6-arm64-cross, libatomic1-arm64-cross) as the Pi's /lib.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const DEB_PATH = join(ROOT, 'pkg', 'out', `fieldgate_${VERSION}_arm64.deb`);
const SYSROOT = '/usr/aarch64-linux-gnu';

describe('arm64 package under qemu-aarch64-static', () => {
  let base: string;
  let tree: string;
  let node: string;
  let cli: string;
  /** argv for the packaged node under qemu, the way /usr/bin/fieldgate runs it on a Pi. */
  const onArm = (...args: string[]): string[] => ['qemu-aarch64-static', '-L', SYSROOT, node, ...args];
  const run = (...args: string[]) => {
    const [cmd, ...rest] = onArm(...args);
    const r = spawnSync(cmd!, rest, { encoding: 'utf8', timeout: 120_000, cwd: base });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr + (r.error ? String(r.error) : '') };
  };

  beforeAll(() => {
    if (!existsSync(DEB_PATH)) throw new Error(`${DEB_PATH} is missing: run npm run package first`);
    base = mkdtempSync(join(tmpdir(), 'fieldgate-arm64-'));
    tree = join(base, 'tree');
    expect(spawnSync('dpkg-deb', ['-x', DEB_PATH, tree]).status).toBe(0);
    node = join(tree, 'usr/lib/fieldgate/node/bin/node');
    cli = join(tree, 'usr/lib/fieldgate/app/dist/src/cli.js');
  });

  afterAll(() => {
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('is an arm64 package whose wrapper runs the bundled runtime', () => {
    expect(spawnSync('dpkg-deb', ['-f', DEB_PATH, 'Architecture'], { encoding: 'utf8' }).stdout.trim()).toBe('arm64');
    expect(readFileSync(join(tree, 'usr/bin/fieldgate'), 'utf8')).toContain(
      'exec /usr/lib/fieldgate/node/bin/node --max-semi-space-size=1 --optimize-for-size --max-opt=2 /usr/lib/fieldgate/app/dist/src/cli.js "$@"');
    expect(spawnSync('file', ['-b', node], { encoding: 'utf8' }).stdout).toMatch(/ELF 64-bit LSB .*ARM aarch64/);
  });

  it('prints its version and validates the shipped site file', () => {
    const v = run(cli, '--version');
    expect(v.stderr).toBe('');
    expect(v.stdout).toBe(`fieldgate ${VERSION}\n`);
    const a = run('-p', 'process.arch');
    expect(a.stdout.trim()).toBe('arm64');
    const ok = run(cli, 'validate', join(tree, 'etc/fieldgate/site.yaml'));
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/site\.yaml: ok \(1 devices, \d+ tags\)/);
  });

  it('loads the cross-compiled addons and serialport\'s arm64 prebuild', () => {
    const pkgJson = join(tree, 'usr/lib/fieldgate/app/package.json');
    const r = run('-e', [
      `const r = require('node:module').createRequire(${JSON.stringify(pkgJson)});`,
      "const db = new (r('better-sqlite3'))(':memory:');",
      "db.exec('create table t (v)'); db.prepare('insert into t values (?)').run(42);",
      "r('unix-dgram').createSocket('unix_dgram').close();",
      "r('@serialport/bindings-cpp');",
      "console.log(db.prepare('select v from t').get().v);",
    ].join(' '));
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('42\n');
  });

  it('runs the demo: broker listening, tag updates logged, outbox written', async () => {
    // Its own network namespace: the demo's fixed ports 1883 and 8080 collide with nothing.
    const argv = onArm(cli, 'demo');
    const child = spawn('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', ...argv], {
      cwd: base,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const updates = (): number => out.split('\n').filter((l) => l.includes('"msg":"tag update"')).length;
    const deadline = Date.now() + 90_000;
    // Five seconds of samples after the first one; qemu startup takes a few seconds more.
    while (updates() === 0 && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 5_000));
    child.kill('SIGINT');
    const code = await exited;
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toContain('"msg":"broker listening"');
    expect(out).toMatch(/"device":"pump-01","tag":"flow","value":[\d.]+,"quality":"GOOD"/);
    expect(updates()).toBeGreaterThan(10);
    expect(statSync(join(base, 'data', 'fieldgate.db')).size).toBeGreaterThan(0);
  }, 120_000);
});
