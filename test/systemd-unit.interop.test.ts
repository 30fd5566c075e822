// The unit file as Debian's systemd reads it. `systemd-analyze verify` checks that ExecStart=
// names an executable, and /usr/bin/fieldgate exists only once the package is installed, so
// the unchanged file is verified inside a scratch root (--root) that holds the host's own unit
// library and an executable /usr/bin/fieldgate: nothing in the unit is rewritten for the test.
// The system call filter is checked against what the gateway really calls, under strace.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, realpathSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT } from './helpers/cli.js';
import { freePort } from './helpers/ports.js';
import { until } from './helpers/until.js';
import { loopbackBroker, statusPageOn, writeSite } from './helpers/site-yaml.js';

const UNIT = join(ROOT, 'systemd', 'fieldgate.service');
const unitText = readFileSync(UNIT, 'utf8');

/** A root with /usr/lib/systemd/system (sysinit.target and friends) and the packaged paths. */
function scratchRoot(withBinary: boolean): string {
  const root = mkdtempSync(join(tmpdir(), 'fg-unit-root-'));
  cpSync('/usr/lib/systemd/system', join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
  mkdirSync(join(root, 'etc/systemd/system'), { recursive: true });
  cpSync(UNIT, join(root, 'etc/systemd/system/fieldgate.service'));
  if (withBinary) {
    mkdirSync(join(root, 'usr/bin'), { recursive: true });
    writeFileSync(join(root, 'usr/bin/fieldgate'), `#!/bin/sh\nexec node ${CLI} "$@"\n`);
    chmodSync(join(root, 'usr/bin/fieldgate'), 0o755);
    // ExecReload (issue 20) runs kill from procps, which every Debian root has.
    mkdirSync(join(root, 'bin'), { recursive: true });
    cpSync(realpathSync('/bin/kill'), join(root, 'bin/kill'));
  }
  return root;
}

function analyze(args: string[]) {
  const r = spawnSync('systemd-analyze', args, { encoding: 'utf8' });
  if (r.error !== undefined) throw r.error;
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Every value a key has in the [Service] section, in order. */
function values(key: string): string[] {
  return unitText
    .split('\n')
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => l.slice(key.length + 1).trim());
}

/** Expands a @group (recursively) into syscall names, as systemd-analyze lists them. */
function syscallSet(spec: string, seen = new Map<string, Set<string>>()): Set<string> {
  if (!spec.startsWith('@')) return new Set([spec]);
  const cached = seen.get(spec);
  if (cached !== undefined) return cached;
  const names = new Set<string>();
  seen.set(spec, names);
  const r = analyze(['syscall-filter', spec]);
  expect(r.code).toBe(0);
  for (const raw of r.out.split('\n').slice(1)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    for (const n of syscallSet(line, seen)) names.add(n);
  }
  return names;
}

/** What the unit's SystemCallFilter= lines allow, in systemd's order: allow lists, then ~deny. */
function allowedSyscalls(): Set<string> {
  const allowed = new Set<string>();
  for (const v of values('SystemCallFilter')) {
    const deny = v.startsWith('~');
    for (const item of (deny ? v.slice(1) : v).split(/\s+/)) {
      for (const n of syscallSet(item)) {
        if (deny) allowed.delete(n);
        else allowed.add(n);
      }
    }
  }
  return allowed;
}

describe('systemd/fieldgate.service', () => {
  it('passes systemd-analyze verify unchanged, and the check has teeth', () => {
    const root = scratchRoot(true);
    const ok = analyze(['verify', `--root=${root}`, 'fieldgate.service']);
    expect({ code: ok.code, err: ok.err }).toEqual({ code: 0, err: '' });
    rmSync(root, { recursive: true, force: true });

    // The same root without the binary: verify must complain, or the clean run above proved nothing.
    const bare = scratchRoot(false);
    const missing = analyze(['verify', `--root=${bare}`, 'fieldgate.service']);
    expect(missing.code).not.toBe(0);
    expect(missing.err).toContain('/usr/bin/fieldgate is not executable');
    rmSync(bare, { recursive: true, force: true });
  });

  it('is a notify service with a watchdog, no capabilities and serial access intact', () => {
    expect(values('Type')).toEqual(['notify']);
    expect(values('NotifyAccess')).toEqual(['main']);
    expect(values('WatchdogSec')).toEqual(['30s']);
    expect(values('Restart')).toEqual(['on-failure']);
    expect(values('ExecStartPre')).toEqual(['/usr/bin/fieldgate validate /etc/fieldgate/site.yaml']);
    expect(values('CapabilityBoundingSet')).toEqual(['']);
    expect(values('AmbientCapabilities')).toEqual(['']);
    expect(values('SupplementaryGroups')).toEqual(['dialout']);
    expect(values('StateDirectory')).toEqual(['fieldgate']);
    for (const key of ['ProtectSystem', 'ProtectHome', 'PrivateTmp', 'NoNewPrivileges']) expect(values(key), key).toHaveLength(1);
    expect(values('ProtectSystem')).toEqual(['strict']);
    // Each of these would close /dev/tty* (see the unit's comments).
    for (const key of ['PrivateDevices', 'DeviceAllow', 'DevicePolicy', 'ProtectClock']) expect(values(key), key).toEqual([]);
  });

  it('scores OK (exposure at most 2.5 of 10) in systemd-analyze security', () => {
    const root = scratchRoot(true);
    const r = analyze(['security', '--offline=yes', `--root=${root}`, '--threshold=25', 'fieldgate.service']);
    rmSync(root, { recursive: true, force: true });
    const score = /Overall exposure level for fieldgate\.service: ([\d.]+)/.exec(r.out)?.[1];
    expect(Number(score)).toBeLessThanOrEqual(2.5);
    expect(r.code).toBe(0);
  });

  it('allows every system call the gateway makes from start to stop (strace, as a non-root user)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-strace-'));
    chmodSync(dir, 0o777);
    const brokerPort = await freePort();
    const httpPort = await freePort();
    const site = writeSite(dir, {
      site: '{ group: g, node: n }',
      observe: statusPageOn(httpPort),
      broker: loopbackBroker(brokerPort),
      store: `{ path: ${join(dir, 'fg.db')} }`,
      devices: `
  - name: d1
    driver: simulator
    pollInterval: 100ms
    tags: [ { name: t, signal: { kind: counter, start: 0, step: 1 } } ]
  - name: scale
    driver: serial
    connection:
      path: ${join(dir, 'tty-gateway')}
      framing: { kind: delimiter, delimiter: "\\r\\n", maxLength: 64 }
      parse: { kind: regex, pattern: '^W,(?<w>[\\d.]+)$' }
    tags: [ { name: weight, group: w } ]
`,
    });
    // A serial line (socat's pseudo-terminal pair) that the unprivileged gateway may open, as
    // dialout may open /dev/ttyUSB0: termios ioctls and the port lock are in the trace too.
    const socat = spawn('socat', [`pty,raw,echo=0,mode=666,link=${join(dir, 'tty-gateway')}`, `pty,raw,echo=0,link=${join(dir, 'tty-scale')}`], { stdio: 'ignore' });
    await until(() => existsSync(join(dir, 'tty-gateway')) && existsSync(join(dir, 'tty-scale')), 5_000, 'socat ptys');
    // The notify path too: a bound datagram socket the gateway reports to.
    const unixDgram = createRequire(import.meta.url)('unix-dgram') as {
      createSocket(t: 'unix_dgram', l: (b: Buffer) => void): { bind(p: string): void; close(): void };
    };
    const notes: string[] = [];
    const sock = unixDgram.createSocket('unix_dgram', (b) => notes.push(b.toString()));
    const sockPath = join(dir, 'notify.sock');
    sock.bind(sockPath);
    chmodSync(sockPath, 0o777);

    const trace = join(dir, 'strace.txt');
    // The service runs as an unprivileged user: SQLite, for one, only calls fchown() as root.
    const asUser = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
    // setpriv first, so that its own setresuid() is not in the trace (systemd does that part).
    const cmd = [...asUser, 'strace', '-f', '-qq', '-c', '-o', trace, process.execPath, CLI, 'run', '--config', site];
    const child = spawn(cmd[0]!, cmd.slice(1), {
      cwd: dir,
      env: { ...process.env, NOTIFY_SOCKET: sockPath, WATCHDOG_USEC: '200000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      await until(() => notes.some((n) => n.includes('READY=1')), 30_000, 'READY=1 under strace');
      // Exercise the parts: a weight on the serial line, /health and /metrics, an MQTT client.
      const scale = openSync(join(dir, 'tty-scale'), 'w');
      const scaleOnline = async () => {
        writeSync(scale, 'W,12.5\r\n');
        const h = (await (await fetch(`http://127.0.0.1:${httpPort}/health`)).json()) as { components: { devices: { online: number } } };
        return h.components.devices.online === 2;
      };
      const deadline = Date.now() + 10_000;
      while (!(await scaleOnline())) {
        if (Date.now() > deadline) throw new Error(`serial device never online:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      closeSync(scale);
      expect((await fetch(`http://127.0.0.1:${httpPort}/health`)).status).toBe(200);
      await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
      const mqtt = (await import('mqtt')).default;
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${brokerPort}`, { reconnectPeriod: 0 });
      await client.subscribeAsync('#');
      await client.publishAsync('t/x', 'hello', { qos: 1, retain: true });
      await client.endAsync();
      await until(() => notes.filter((n) => n.includes('WATCHDOG=1')).length >= 3, 10_000, 'watchdog pings');
    } finally {
      // The gateway itself, not strace: its pid is in every log line.
      const pid = Number(/"pid":(\d+)/.exec(out)?.[1]);
      if (pid > 0) process.kill(pid, 'SIGTERM');
      else child.kill('SIGKILL');
    }
    expect(await exited, out).toBe(0);
    sock.close();
    socat.kill('SIGTERM');
    expect(notes.some((n) => n.includes('STOPPING=1'))).toBe(true);

    const used = readFileSync(trace, 'utf8')
      .split('\n')
      .map((l) => l.trim().split(/\s+/).at(-1) ?? '')
      .filter((n) => /^[a-z_0-9]+$/.test(n) && n !== 'total' && n !== 'syscall');
    expect(used.length).toBeGreaterThan(30);
    const allowed = allowedSyscalls();
    expect(allowed.has('epoll_pwait')).toBe(true);
    expect(allowed.has('setuid')).toBe(false); // ~@privileged took effect
    expect(used.filter((n) => !allowed.has(n))).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });
});
