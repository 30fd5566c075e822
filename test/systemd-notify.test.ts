// systemd's side of Type=notify, played for real: a bound AF_UNIX datagram socket (what
// systemd listens on), the built CLI as a child process with NOTIFY_SOCKET and WATCHDOG_USEC,
// and the broker/HTTP ports probed over TCP at the moment READY=1 arrives.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { statusLine, startupBudgetUsec } from '../src/observe/sd-notify-service.js';
import { encodeNotify, takeNotifyEnvironment } from '../src/observe/sd-notify.js';
import { CLI, ROOT } from './helpers/cli.js';
import { freePort } from './helpers/ports.js';
import { until } from './helpers/until.js';
import { loopbackBroker, statusPageOn, writeSite } from './helpers/site-yaml.js';

interface UnixDgramSocket {
  bind(path: string): void;
  close(): void;
  on(event: 'message', l: (buf: Buffer) => void): void;
  on(event: 'error', l: (e: Error) => void): void;
}
const unixDgram = createRequire(import.meta.url)('unix-dgram') as { createSocket(type: 'unix_dgram'): UnixDgramSocket };

interface Notification {
  at: number;
  fields: Record<string, string>;
}

/** What systemd's manager does with $NOTIFY_SOCKET: bind it and read datagrams. */
function notifyListener(path: string, onMessage?: (n: Notification) => void) {
  const got: Notification[] = [];
  const sock = unixDgram.createSocket('unix_dgram');
  sock.on('message', (buf) => {
    const fields: Record<string, string> = {};
    for (const line of buf.toString('utf8').split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) fields[line.slice(0, eq)] = line.slice(eq + 1);
    }
    const n = { at: performance.now(), fields };
    // unix-dgram calls this from its native poll callback through Nan::Call, outside any
    // callback scope. On Node 26 nothing queued here (a promise resolved by onMessage, a
    // nextTick) runs until some other event wakes the loop, and with the gateway SIGSTOPped at
    // READY none came: the test hung there. setImmediate is an ordinary loop callback. The
    // product only sends through unix-dgram, synchronously, so it is not affected.
    setImmediate(() => {
      got.push(n);
      onMessage?.(n);
    });
  });
  sock.on('error', (e) => {
    throw e;
  });
  sock.bind(path);
  return { got, close: () => sock.close() };
}

interface Child {
  child: ChildProcess;
  stdout: string[];
  stderr: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: ChildProcess[] = [];
const closers: Array<() => void> = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const c of closers.splice(0)) c();
});

function startGateway(config: string, env: Record<string, string>, nodeArgs: string[] = []): Child {
  const base = { ...process.env };
  // The test runner itself may run under systemd; the child must see only what the test sets.
  delete base.NOTIFY_SOCKET;
  delete base.WATCHDOG_USEC;
  delete base.WATCHDOG_PID;
  const child = spawn(process.execPath, [...nodeArgs, CLI, 'run', '--config', config], { cwd: ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const out: Child = { child, stdout: [], stderr: '', exited: new Promise((r) => child.on('exit', (code, signal) => r({ code, signal }))) };
  let buf = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => {
    buf += c;
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    out.stdout.push(...lines);
  });
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (out.stderr += c));
  return out;
}

/** One simulated device: enough for the gateway to be "ready". */
const D1 = `
  - name: d1
    driver: simulator
    pollInterval: 200ms
    tags: [ { name: t, signal: { kind: counter, start: 0, step: 1 } } ]
`;

async function siteFile(): Promise<{ file: string; dir: string; brokerPort: number; httpPort: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'fg-sd-'));
  const brokerPort = await freePort();
  const httpPort = await freePort();
  const file = writeSite(dir, { site: '{ group: g, node: n }', observe: statusPageOn(httpPort), broker: loopbackBroker(brokerPort), store: `{ path: ${join(dir, 'fg.db')} }`, devices: D1 });
  return { file, dir, brokerPort, httpPort };
}

function tcpConnects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

async function health(port: number): Promise<number> {
  const r = await fetch(`http://127.0.0.1:${port}/health`);
  await r.arrayBuffer();
  return r.status;
}

const pings = (got: Notification[], from = 0, to = Infinity) => got.filter((n) => n.fields.WATCHDOG === '1' && n.at >= from && n.at <= to);

/** Blocks the child's main thread from outside, through the inspector: no test hook in the product. */
async function blockMainThread(inspectorUrl: string, ms: number): Promise<void> {
  const ws = new WebSocket(inspectorUrl);
  await new Promise<void>((resolve, reject) => (ws.once('open', () => resolve()), ws.once('error', reject)));
  const done = new Promise<void>((resolve) => ws.on('message', (m: Buffer) => (JSON.parse(m.toString()) as { id?: number }).id === 1 && resolve()));
  ws.send(JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression: `{ const end = Date.now() + ${ms}; while (Date.now() < end) {} }` } }));
  await done;
  ws.close();
}

describe('systemd notify protocol (units)', () => {
  it('takes the watchdog only when WATCHDOG_PID is unset or ours, and clears the variables for children', () => {
    const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '30000000', WATCHDOG_PID: '4242' };
    expect(takeNotifyEnvironment(env, 4242)).toEqual({ socket: '/run/systemd/notify', watchdogIntervalMs: 15_000 });
    expect(env).toEqual({});
    expect(takeNotifyEnvironment({ NOTIFY_SOCKET: '/s', WATCHDOG_USEC: '30000000', WATCHDOG_PID: '1' }, 4242).watchdogIntervalMs).toBeUndefined();
    expect(takeNotifyEnvironment({ NOTIFY_SOCKET: '/s', WATCHDOG_USEC: '400000' }, 4242).watchdogIntervalMs).toBe(200);
    expect(takeNotifyEnvironment({ WATCHDOG_USEC: 'soon' }, 1)).toEqual({ socket: undefined, watchdogIntervalMs: undefined });
  });

  it('encodes one KEY=VALUE per line and keeps a multi-line status on one line', () => {
    expect(encodeNotify({ READY: 1, STATUS: 'a\nb' }).toString()).toBe('READY=1\nSTATUS=a b\n');
  });

  it('writes a status line that leads with the upstream link and the backlog', () => {
    const line = statusLine({
      status: 'degraded',
      components: {
        upstream: { status: 'degraded', connected: false, born: false, backlog: 1234, backlogBytes: 3 * 1024 * 1024 },
        devices: { status: 'degraded', online: 3, total: 4 },
        broker: { status: 'ok', clients: 1 },
      },
    });
    expect(line).toBe('degraded: upstream DISCONNECTED, 1234 records (3.0 MiB) buffered; devices 3/4 online; broker 1 client');
  });

  it('asks for more start time in proportion to the store it must check', () => {
    expect(startupBudgetUsec(0)).toBe(30_000_000);
    expect(startupBudgetUsec(512 * 1024 * 1024)).toBe(30_000_000 + 64_000_000);
  });
});

describe('fieldgate run under a notify socket', () => {
  it('READY=1 once the ports accept, WATCHDOG=1 every WATCHDOG_USEC/2 from the event loop, STOPPING=1 on SIGTERM', async () => {
    const site = await siteFile();
    const sockPath = join(site.dir, 'notify.sock');
    let gw: Child | undefined;
    // The instant READY=1 arrives the child is frozen, so the probes below see the ports as they
    // were when it spoke, not a few milliseconds later.
    let froze: () => void = () => undefined;
    const frozen = new Promise<void>((resolve) => (froze = resolve));
    const listener = notifyListener(sockPath, (n) => {
      if (n.fields.READY === '1' && gw?.child.pid !== undefined) {
        process.kill(gw.child.pid, 'SIGSTOP');
        froze();
      }
    });
    closers.push(listener.close);
    const got = listener.got;
    gw = startGateway(site.file, { NOTIFY_SOCKET: sockPath, WATCHDOG_USEC: '400000' }, ['--inspect=127.0.0.1:0']);
    await frozen;
    const [brokerUp, httpUp] = await Promise.all([tcpConnects(site.brokerPort), tcpConnects(site.httpPort)]);
    gw.child.kill('SIGCONT');
    expect(brokerUp).toBe(true);
    expect(httpUp).toBe(true);
    const ready = got.find((n) => n.fields.READY === '1');
    expect(ready?.fields.STATUS).toMatch(/^(ok|degraded): .*devices \d\/1 online; broker 0 clients/);
    expect(got.findIndex((n) => n.fields.STATUS === 'starting')).toBeLessThan(got.indexOf(ready!));
    expect(await health(site.httpPort)).toBe(200);

    // (b) a steady ping at half of WATCHDOG_USEC.
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 2_000));
    const steady = pings(got, t0, performance.now());
    expect(steady.length).toBeGreaterThanOrEqual(7);
    expect(steady.length).toBeLessThanOrEqual(12);
    const gaps = steady.slice(1).map((p, i) => p.at - steady[i]!.at).sort((a, b) => a - b);
    const median = gaps[Math.floor(gaps.length / 2)]!;
    expect(median).toBeGreaterThan(150);
    expect(median).toBeLessThan(300);

    // (c) a main thread that does not return stops the pings; they come back when it does.
    const inspector = /ws:\/\/\S+/.exec(gw.stderr)?.[0];
    expect(inspector).toBeDefined();
    const b0 = performance.now();
    await blockMainThread(inspector!, 1_200);
    const b1 = performance.now();
    expect(pings(got, b0 + 250, b1 - 50)).toHaveLength(0); // 250: a ping already in flight
    await until(() => pings(got, b1).length >= 3, 3_000, 'pings after the block');
    const around = pings(got, b0 - 1_000);
    const longest = Math.max(...around.slice(1).map((p, i) => p.at - around[i]!.at));
    expect(longest).toBeGreaterThan(1_000);

    // (d) SIGTERM: STOPPING=1 first, no pings after it, a clean exit.
    gw.child.kill('SIGTERM');
    const exit = await gw.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    const stopping = got.find((n) => n.fields.STOPPING === '1');
    expect(stopping?.fields.STATUS).toBe('stopping');
    expect(pings(got, stopping!.at)).toHaveLength(0);
    expect(gw.stdout.filter((l) => l.includes('"part":"systemd"') && l.includes('"level":40'))).toEqual([]);
  });

  it('a second start on a store that exists asks systemd for more start time before checking it', async () => {
    const site = await siteFile();
    const first = startGateway(site.file, {});
    await until(() => first.stdout.some((l) => l.includes('"gateway started"')), 15_000, 'first start');
    first.child.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);

    const sockPath = join(site.dir, 'notify.sock');
    const l = notifyListener(sockPath);
    closers.push(l.close);
    const gw = startGateway(site.file, { NOTIFY_SOCKET: sockPath });
    await until(() => l.got.some((n) => n.fields.READY === '1'), 15_000, 'READY=1');
    const extend = l.got.find((n) => n.fields.EXTEND_TIMEOUT_USEC !== undefined);
    expect(extend?.fields.STATUS).toMatch(/^starting: checking the store \(\d+ KiB\)$/);
    expect(Number(extend?.fields.EXTEND_TIMEOUT_USEC)).toBeGreaterThanOrEqual(30_000_000);
    expect(l.got.indexOf(extend!)).toBeLessThan(l.got.findIndex((n) => n.fields.READY === '1'));
    // No WATCHDOG_USEC: no pings.
    await new Promise((r) => setTimeout(r, 500));
    expect(pings(l.got)).toHaveLength(0);
    gw.child.kill('SIGTERM');
    expect((await gw.exited).code).toBe(0);
  });

  it.each([
    { what: 'no NOTIFY_SOCKET', socket: undefined, warnings: 0 },
    { what: 'a NOTIFY_SOCKET nobody listens on', socket: 'missing.sock', warnings: 1 },
    { what: 'an abstract NOTIFY_SOCKET', socket: '@fieldgate-test-notify', warnings: 1 },
  ])('runs normally with $what, says so at most once, and exits 0 on SIGTERM', async ({ socket, warnings }) => {
    const site = await siteFile();
    const env: Record<string, string> = socket === undefined ? {} : { NOTIFY_SOCKET: socket.startsWith('@') ? socket : join(site.dir, socket), WATCHDOG_USEC: '100000' };
    const gw = startGateway(site.file, env);
    await until(() => gw.stdout.some((l) => l.includes('"gateway started"')), 15_000, 'gateway started');
    // 20 watchdog periods: every ping fails, one warning says so.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(gw.child.exitCode).toBeNull();
    expect(await health(site.httpPort)).toBe(200);
    expect(await tcpConnects(site.brokerPort)).toBe(true);
    gw.child.kill('SIGTERM');
    expect(await gw.exited).toEqual({ code: 0, signal: null });
    const warned = gw.stdout.filter((l) => l.includes('"part":"systemd"') && l.includes('"level":40'));
    expect(warned).toHaveLength(warnings);
    expect(gw.stderr).toBe('');
  });
});
