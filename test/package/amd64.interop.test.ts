// The amd64 package in a clean Debian root: installed with the operator guide's own steps by an
// ordinary user with sudo, then checked as a system administrator would: the account, the
// modes, the conffile, the gateway running as its service account, remove and purge.
// Needs `npm run package` first, and root (debootstrap, chroot, unshare).
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDebianRoot, type DebianRoot } from './debian-root.js';
import { installSteps } from './install-steps.js';
import { ROOT } from '../helpers/cli.js';

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const DEB = `fieldgate_${VERSION}_amd64.deb`;
const DEB_PATH = join(ROOT, 'pkg', 'out', DEB);
const MINUTES = 60_000;

describe('amd64 package in a clean Debian root', () => {
  let root: DebianRoot;

  beforeAll(() => {
    if (!existsSync(DEB_PATH)) throw new Error(`${DEB_PATH} is missing: run npm run package first`);
    root = makeDebianRoot(join(ROOT, 'pkg', '.cache'), ['sudo']);
    // An engineer's account like the one a Pi or IPC is set up with: sudo, no root shell.
    root.ok('useradd --create-home --shell /bin/sh engineer && echo "engineer ALL=(ALL) NOPASSWD: ALL" > /etc/sudoers.d/engineer');
    copyFileSync(DEB_PATH, join(root.dir, 'home/engineer', DEB));
  }, 20 * MINUTES);

  afterAll(() => root?.remove());

  it("installs with the operator guide's steps, run as written by an ordinary user", () => {
    const steps = installSteps(join(ROOT, 'docs', 'operator-guide.md'));
    expect(steps).toMatch(/apt-get install/);
    writeFileSync(join(root.dir, 'home/engineer/install-steps.sh'), steps);
    expect(root.run('test -e /usr/bin/fieldgate').code).not.toBe(0);
    // -e: the first failing step fails the test; -x: the log shows which one it was.
    const out = root.ok('cd /home/engineer && runuser -u engineer -- env HOME=/home/engineer sh -ex install-steps.sh',
      { timeoutMs: 10 * MINUTES });
    expect(out).toContain(`fieldgate ${VERSION}\n`);
    expect(out).toMatch(/\/etc\/fieldgate\/site\.yaml: ok \(1 devices, \d+ tags\)/);
    expect(root.ok("dpkg-query -W -f '${Status} ${Version} ${Architecture}' fieldgate")).toBe(`install ok installed ${VERSION} amd64`);
  }, 12 * MINUTES);

  it('creates the fieldgate system account in group dialout, with no login', () => {
    const [name, , uid, gid, , home, shell] = root.ok('getent passwd fieldgate').trim().split(':');
    expect(name).toBe('fieldgate');
    expect(Number(uid)).toBeLessThan(1000);
    expect(home).toBe('/var/lib/fieldgate');
    expect(shell).toBe('/usr/sbin/nologin');
    expect(root.ok('getent group fieldgate').split(':')[2]).toBe(gid);
    expect(root.ok('id -nG fieldgate').trim().split(' ').sort()).toEqual(['dialout', 'fieldgate']);
  });

  it('installs the files with the owners and modes the service expects', () => {
    const stat = (path: string): string => root.ok(`stat -c '%a %U:%G %F' ${path}`).trim();
    expect(stat('/usr/bin/fieldgate')).toBe('755 root:root regular file');
    expect(stat('/usr/lib/fieldgate/node/bin/node')).toBe('755 root:root regular file');
    expect(stat('/usr/lib/systemd/system/fieldgate.service')).toBe('644 root:root regular file');
    expect(stat('/etc/fieldgate/site.yaml')).toBe('644 root:root regular file');
    expect(stat('/var/lib/fieldgate')).toBe('750 fieldgate:fieldgate directory');
    expect(root.ok('cat /usr/lib/systemd/system/fieldgate.service')).toBe(
      readFileSync(join(ROOT, 'systemd', 'fieldgate.service'), 'utf8'));
    // Enabled the way Debian enables services, even where systemd is not running.
    expect(root.ok('readlink -f /etc/systemd/system/multi-user.target.wants/fieldgate.service').trim())
      .toBe('/usr/lib/systemd/system/fieldgate.service');
    // Only ever the bundled runtime: the root has no node of its own to fall back on.
    expect(root.run('command -v node').code).not.toBe(0);
  });

  it('runs the gateway as the service account on the bundled runtime, outbox in /var/lib/fieldgate', () => {
    const r = root.run(
      'cd /var/lib/fieldgate && timeout --preserve-status -s INT 6 ' +
        'runuser -u fieldgate -- fieldgate run --config /etc/fieldgate/site.yaml',
      { net: 'loopback', timeoutMs: 60_000 },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0); // a clean stop on SIGINT
    for (const msg of ['broker listening', 'gateway started', 'device online', 'gateway stopped']) {
      expect(r.stdout).toContain(`"msg":"${msg}"`);
    }
    expect(root.ok("stat -c '%U:%G' /var/lib/fieldgate/fieldgate.db").trim()).toBe('fieldgate:fieldgate');
  });

  it('loads every native module and the OPC UA client on the bundled runtime', () => {
    const script = [
      "const r = createRequire('/usr/lib/fieldgate/app/package.json');",
      "const Db = r('better-sqlite3'); const db = new Db(':memory:');",
      "const v = db.prepare('select sqlite_version() v').get().v;",
      "r('unix-dgram').createSocket('unix_dgram').close();",
      "r('@serialport/bindings-cpp');",
      "await import(r.resolve('node-opcua-client')); await import(r.resolve('node-opcua-certificate-manager'));",
      'console.log(process.version, v);',
    ].join(' ');
    const out = root.ok(`/usr/lib/fieldgate/node/bin/node --input-type=module -e "import { createRequire } from 'node:module'; ${script}"`);
    expect(out).toMatch(/^v\d+\.\d+\.\d+ 3\.\d+\.\d+\n$/);
  });

  it('keeps an edited site.yaml when the package is installed again (a conffile)', () => {
    expect(root.ok("dpkg-query -W -f '${Conffiles}' fieldgate")).toMatch(/^ \/etc\/fieldgate\/site\.yaml [0-9a-f]{32}$/m);
    root.ok('sed -i "s/node: edge-01 /node: edge-77 /" /etc/fieldgate/site.yaml && grep -q "node: edge-77" /etc/fieldgate/site.yaml');
    root.ok(`dpkg -i /home/engineer/${DEB}`);
    expect(root.ok('cat /etc/fieldgate/site.yaml')).toContain('node: edge-77');
    expect(root.ok('fieldgate validate /etc/fieldgate/site.yaml')).toMatch(/: ok/);
  });

  it('remove keeps the site file and the outbox; purge deletes them and leaves the account', () => {
    root.ok('apt-get remove fieldgate');
    expect(root.run('test -e /usr/bin/fieldgate').code).not.toBe(0);
    expect(root.ok('cat /etc/fieldgate/site.yaml')).toContain('node: edge-77');
    root.ok('test -f /var/lib/fieldgate/fieldgate.db');
    root.ok('apt-get purge fieldgate');
    expect(root.run('test -e /etc/fieldgate').code).not.toBe(0);
    expect(root.run('test -e /var/lib/fieldgate').code).not.toBe(0);
    expect(root.run('test -e /usr/lib/fieldgate').code).not.toBe(0);
    expect(root.run('test -e /etc/systemd/system/multi-user.target.wants/fieldgate.service').code).not.toBe(0);
    root.ok('getent passwd fieldgate');
  });
});
