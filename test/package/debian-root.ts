import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** 'loopback': a network namespace of its own with only lo, so fixed ports (1883, 8080)
   *  cannot collide with anything on the host. Default: the host's network (apt needs it). */
  net?: 'host' | 'loopback';
  timeoutMs?: number;
}

/** A clean Debian root made by debootstrap (minbase), run through chroot. */
export interface DebianRoot {
  dir: string;
  run(script: string, options?: RunOptions): Result;
  /** run(), but throws with the output unless the script exits 0. */
  ok(script: string, options?: RunOptions): string;
  remove(): void;
}

function sh(cmd: string, args: string[], timeoutMs = 600_000): Result {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

function must(r: Result, what: string): Result {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-4000)}`);
  return r;
}

/** The host's release codename: the clean root is the release the packages were built on. */
export function hostCodename(): string {
  const m = /^VERSION_CODENAME=(\S+)$/m.exec(readFileSync('/etc/os-release', 'utf8'));
  if (!m?.[1]) throw new Error('/etc/os-release has no VERSION_CODENAME');
  return m[1];
}

/** The Debian mirror this machine's apt already uses for `codename`, so the test needs no
 *  address of its own. Reads deb822 .sources files and the one-line sources.list format. */
export function hostMirror(codename: string): string {
  const files: string[] = [];
  const dir = '/etc/apt/sources.list.d';
  if (existsSync(dir)) for (const f of readdirSync(dir)) if (/\.(sources|list)$/.test(f)) files.push(join(dir, f));
  if (existsSync('/etc/apt/sources.list')) files.push('/etc/apt/sources.list');
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    if (file.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const field = (name: string): string[] =>
          (new RegExp(`^${name}:\\s*(.*)$`, 'mi').exec(stanza)?.[1] ?? '').split(/\s+/).filter(Boolean);
        if (field('Types').includes('deb') && field('Suites').includes(codename) && field('Components').includes('main')) {
          const uri = field('URIs')[0];
          if (uri) return uri;
        }
      }
    } else {
      for (const line of text.split('\n')) {
        const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.*)$/.exec(line.trim());
        if (m && m[2] === codename && m[3]?.split(/\s+/).includes('main') && m[1]) return m[1];
      }
    }
  }
  throw new Error(`no apt source for ${codename} main on this machine`);
}

/**
 * Makes a clean root. debootstrap takes a couple of minutes, so its result is kept as a tar in
 * `cacheDir` (gitignored) for the next run on this machine; a fresh clone (CI) has none.
 */
export function makeDebianRoot(cacheDir: string, include: string[]): DebianRoot {
  const codename = hostCodename();
  const base = mkdtempSync(join(tmpdir(), 'fieldgate-root-'));
  const dir = join(base, 'root');
  mkdirSync(dir);
  const cache = join(cacheDir, `${codename}-minbase-${include.join('+')}.tar`);
  if (existsSync(cache)) {
    must(sh('tar', ['-xpf', cache, '-C', dir]), `tar -x ${cache}`);
  } else {
    must(
      sh('debootstrap', ['--variant=minbase', `--include=${include.join(',')}`, codename, dir, hostMirror(codename)], 900_000),
      'debootstrap',
    );
    mkdirSync(cacheDir, { recursive: true });
    must(sh('tar', ['-cf', `${cache}.tmp`, '-C', dir, '.']), 'tar -c');
    must(sh('mv', [`${cache}.tmp`, cache]), 'mv');
  }
  copyFileSync('/etc/resolv.conf', join(dir, 'etc/resolv.conf'));
  // The person at the keyboard answers apt's "Do you want to continue? [Y/n]" with Y; with no
  // terminal attached, this says so for them.
  writeFileSync(join(dir, 'etc/apt/apt.conf.d/90fieldgate-test-assume-yes'), 'APT::Get::Assume-Yes "true";\n');

  // A login's environment, not this test runner's (whose NODE_EXTRA_CA_CERTS and the like
  // name files the root does not have).
  const CLEAN_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8';
  // proc is mounted in a mount namespace of the command's own, so it vanishes with the command
  // and the root can be deleted without unmounting anything. debootstrap made the /dev nodes.
  const run = (script: string, options: RunOptions = {}): Result => {
    const prep = (options.net === 'loopback' ? 'ip link set lo up && ' : '') +
      'mount -t proc proc "$1/proc" && exec chroot "$1" /usr/bin/env -i ' + CLEAN_ENV + ' /bin/sh -c "$2"';
    const ns = options.net === 'loopback' ? ['-m', '-n'] : ['-m'];
    return sh('unshare', [...ns, '--propagation', 'private', 'sh', '-c', prep, 'sh', dir, script], options.timeoutMs);
  };
  return {
    dir,
    run,
    ok: (script, options) => must(run(script, options), script.split('\n')[0] ?? script).stdout,
    remove: () => {
      const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
      if (mounts.includes(` ${dir}/`)) throw new Error(`${dir} still has mounts; not deleting`);
      rmSync(base, { recursive: true, force: true });
    },
  };
}
