// systemd/fieldgate-host.service (issue 14): the unit systemd would load, hardened like the
// gateway's. Needs systemd-analyze (.ci/run installs systemd).
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, ROOT } from '../helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'fg-host-unit-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('systemd/fieldgate-host.service', () => {
  it('verifies and scores as well hardened', () => {
    cpSync('/usr/lib/systemd/system', join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
    mkdirSync(join(root, 'etc/systemd/system'), { recursive: true });
    cpSync(join(ROOT, 'systemd', 'fieldgate-host.service'), join(root, 'etc/systemd/system/fieldgate-host.service'));
    mkdirSync(join(root, 'usr/bin'), { recursive: true });
    writeFileSync(join(root, 'usr/bin/fieldgate'), `#!/bin/sh\nexec node ${CLI} "$@"\n`);
    chmodSync(join(root, 'usr/bin/fieldgate'), 0o755);
    const verify = spawnSync('systemd-analyze', ['verify', `--root=${root}`, 'fieldgate-host.service'], { encoding: 'utf8' });
    expect(verify.status, verify.stderr).toBe(0);
    const sec = spawnSync('systemd-analyze', ['security', '--offline=yes', `--root=${root}`, '--threshold=25', 'fieldgate-host.service'], { encoding: 'utf8' });
    expect(sec.status, sec.stdout + sec.stderr).toBe(0);
  });

  it('the example host file the package installs is valid', () => {
    const r = spawnSync(process.execPath, [CLI, 'validate', join(ROOT, 'pkg', 'host.yaml')], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toContain('ok (host scada-1)');
  });
});
