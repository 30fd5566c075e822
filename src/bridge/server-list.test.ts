// Issue 17: the server list's policy on its own (no broker): which server the next CONNECT goes
// to and after what delay, per Sparkplug 3.0's multi-server rules, and never flapping.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../observe/logger.js';
import { MetricsRegistry } from '../observe/metrics.js';
import { ManualClock } from '../shared/clock.js';
import { PerServerHostState, PrimaryHostTracker } from '../sparkplug/state.js';
import { parseConfigText, ConfigError } from '../config/load.js';
import { builtinDrivers } from '../../drivers/all.js';
import { sessionsFromConfig } from './from-config.js';
import { displayUrl, ServerList, type FailoverPolicy } from './server-list.js';
import type { UpstreamSessionConfig } from './upstream-options.js';
import { freePort } from '../../test/helpers/ports.js';
import { until } from '../../test/helpers/until.js';

const session = (url: string): UpstreamSessionConfig => ({ url, protocolVersion: 4, clientId: 'c', keepaliveMs: 30_000, connectTimeoutMs: 1000 });
const BACKOFF = { minMs: 1000, maxMs: 8000, jitter: 0 };
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function list(urls: string[], policy: Partial<FailoverPolicy> = {}) {
  const clock = new ManualClock();
  const metrics = new MetricsRegistry();
  let left = 0;
  const l = new ServerList({
    servers: urls.map(session),
    policy: { retries: 1, preferFirst: false, dwellMs: 60_000, ...policy },
    backoff: BACKOFF,
    clock,
    random: () => 0.5,
    log: silentLogger(),
    metrics,
    failureLogIntervalMs: undefined,
    leave: () => {
      left += 1;
    },
  });
  cleanups.push(() => l.stop());
  return { l, clock, metrics, left: () => left };
}

const A = 'mqtt://127.0.0.1:1';
const B = 'mqtt://127.0.0.1:2';
const C = 'mqtt://127.0.0.1:3';

describe('upstream server list (issue 17)', () => {
  it('one server: the bridge backoff as before, never a switch, even for an offline host', () => {
    const { l } = list([A]);
    expect(l.next(1234)).toEqual({ delayMs: 1234, switched: false });
    l.connected();
    l.hostOffline();
    l.lost();
    expect(l.next(777)).toEqual({ delayMs: 777, switched: false });
    expect(l.current.index).toBe(0);
  });

  it('connection loss: retries the same server `retries` times, then walks to the next, at once', () => {
    const { l, metrics } = list([A, B, C], { retries: 2 });
    l.connected();
    l.lost();
    expect(l.next(500)).toEqual({ delayMs: 500, switched: false }); // retry 1 of A after the backoff
    expect(l.next(1000)).toEqual({ delayMs: 1000, switched: false }); // A failed once: retry 2
    expect(l.next(2000)).toEqual({ delayMs: 0, switched: true }); // A failed twice: B now
    expect(l.current.session.url).toBe(B);
    expect(metrics.render()).toContain('fieldgate_upstream_switches_total{reason="connection"} 1');
  });

  it('a refusal penalty from the guard walks on instead of waiting reconnect.max on this server', () => {
    const { l } = list([A, B]);
    l.connected();
    l.lost();
    expect(l.next(500, 60_000)).toEqual({ delayMs: 0, switched: true });
    const one = list([A]).l;
    one.connected();
    one.lost();
    expect(one.next(500, 60_000)).toEqual({ delayMs: 60_000, switched: false });
  });

  it('retries: 0 walks on at the loss itself', () => {
    const { l } = list([A, B], { retries: 0 });
    l.connected();
    l.lost();
    expect(l.next(500)).toEqual({ delayMs: 0, switched: true });
    expect(l.current.index).toBe(1);
  });

  it('a whole round without a settled session: every further switch waits a growing backoff (no flapping)', async () => {
    const { l, clock } = list([A, B], { retries: 1 });
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) delays.push(l.next(1).delayMs); // every CONNECT fails
    // first round at once, then 1 s, 2 s, 4 s, 8 s (reconnect.max)
    expect(delays).toEqual([0, 0, 1000, 2000, 4000, 8000]);
    // A session that settles (lasts 10 s) starts the walk over.
    l.connected();
    await clock.advance(10_000);
    l.lost();
    l.next(1); // the retry of the same server
    expect(l.next(1).delayMs).toBe(0);
  });

  it('primary host offline: leaves at once for the next server; all hosts offline: backoff, never flapping', () => {
    const { l } = list([A, B, C]);
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      l.connected();
      l.hostOffline();
      l.lost();
      const n = l.next(99);
      expect(n.switched).toBe(true);
      delays.push(n.delayMs);
    }
    expect(delays).toEqual([0, 0, 0, 1000, 2000]);
    expect(l.status().map((s) => s.lastLeft)).toEqual(['host_offline', 'host_offline', 'host_offline']);
  });

  it('preferFirst: after the dwell on another server, returns to the first once it accepts TCP', async () => {
    const port = await freePort();
    const first = `mqtt://127.0.0.1:${port}`;
    const { l, clock, left } = list([first, B], { preferFirst: true, dwellMs: 60_000 });
    l.next(1); // the first refuses: B
    expect(l.current.index).toBe(1);
    l.connected();
    await clock.advance(60_000);
    await new Promise((r) => setTimeout(r, 200)); // the probe's real (refused) TCP connect
    expect(left()).toBe(0); // the first is still down: stay
    const server = net.createServer((s) => s.destroy()).listen(port, '127.0.0.1');
    cleanups.push(() => server.close());
    await clock.advance(30_000); // probed again
    await until(() => left() === 1, 5000, 'the return to the first server');
    l.lost();
    expect(l.next(5000)).toEqual({ delayMs: 0, switched: true });
    expect(l.current.index).toBe(0);
    expect(l.status()[1]?.lastLeft).toBe('prefer_first');
  });

  it('preferFirst never flaps: a return that does not settle doubles the dwell', async () => {
    const port = await freePort();
    const server = net.createServer((s) => s.destroy()).listen(port, '127.0.0.1');
    cleanups.push(() => server.close());
    const { l, clock, left } = list([`mqtt://127.0.0.1:${port}`, B], { preferFirst: true, dwellMs: 1000 });
    l.next(1); // on B
    l.connected();
    await clock.advance(1000);
    await until(() => left() === 1, 5000, 'first return');
    l.lost();
    l.next(1); // back to the first: its CONNECT fails (a TCP listener is no broker)
    l.next(1); // so B again
    l.connected();
    await clock.advance(1000);
    await new Promise((r) => setTimeout(r, 300));
    expect(left()).toBe(1); // the dwell is 2 s now
    await clock.advance(1000);
    await until(() => left() === 2, 5000, 'second return after the doubled dwell');
  });

  it('shows servers without credentials; time on each; the live one in the metrics', async () => {
    const { l, clock, metrics } = list(['mqtts://user:secret@central-a:8883', B]);
    l.connected();
    await clock.advance(1500);
    expect(l.status()[0]).toEqual({ url: 'mqtts://central-a:8883', live: true, connectedSeconds: 1.5, lastLeft: undefined });
    const text = metrics.render();
    expect(text).not.toContain('secret');
    expect(text).toContain('fieldgate_upstream_server_live{server="mqtts://central-a:8883"} 1');
    expect(text).toContain(`fieldgate_upstream_server_live{server="${B}"} 0`);
    expect(text).toContain('fieldgate_upstream_server_connected_seconds{server="mqtts://central-a:8883"} 1.5');
    expect(displayUrl('ws://u:p@h:9001/mqtt')).toBe('ws://h:9001/mqtt');
  });

  it('STATE per server: a retained offline seen before counts again on a new session', () => {
    const t = new PrimaryHostTracker();
    const off = Buffer.from(JSON.stringify({ online: false, timestamp: 5 }));
    expect(t.accept(off)?.online).toBe(false);
    expect(t.accept(off)).toBeUndefined(); // same session: a repeat changes nothing
    t.newSession();
    expect(t.accept(off)?.online).toBe(false);
    expect(t.accept(Buffer.from(JSON.stringify({ online: true, timestamp: 4 })))).toBeUndefined(); // stale
    // One tracker per server: B's older online STATE is not stale for B.
    const hosts = new PerServerHostState();
    hosts.of(0).accept(off);
    expect(hosts.of(1).accept(Buffer.from(JSON.stringify({ online: true, timestamp: 4 })))?.online).toBe(true);
    // One server alone: the retained repeat stays ignored at a new session (no reconnect loop).
    hosts.sessionUp(0, 1);
    expect(hosts.of(0).accept(off)).toBeUndefined();
    hosts.sessionUp(0, 2);
    expect(hosts.of(0).accept(off)?.online).toBe(false);
  });
});

describe('upstream.servers config (issue 17)', () => {
  const site = (upstream: string) => `version: 1\nsite: { group: g, node: n }\nupstream: ${upstream}\n`;
  const errors = (text: string): string => {
    try {
      parseConfigText(text, 'site.yaml', builtinDrivers, { env: {} });
    } catch (e) {
      if (e instanceof ConfigError) return e.message;
      throw e;
    }
    return '';
  };

  it('exactly one of url and servers', () => {
    expect(errors(site('{ protocolVersion: 4 }'))).toContain('set upstream.url (one server) or upstream.servers (a list)');
    expect(errors(site('{ url: "mqtt://a", servers: [ { url: "mqtt://b" } ] }'))).toContain('not both');
    expect(errors(site('{ servers: [] }'))).toContain('servers needs at least one server');
    expect(errors(site('{ servers: [ { url: "http://b" } ] }'))).toContain('url must start with mqtt://');
  });

  it('a server inherits what it leaves out; defaults switch within about a second', () => {
    const cfg = parseConfigText(
      site('{ username: u, password: pw, protocolVersion: 4, servers: [ { url: "mqtt://a:1883" }, { url: "mqtts://b:8883", username: v, protocolVersion: 5 } ] }'),
      'site.yaml',
      builtinDrivers,
      { env: {} },
    );
    const up = cfg.upstream;
    if (up === undefined) throw new Error('no upstream');
    expect(up.failover).toEqual({ retries: 1, preferFirst: true, dwell: 300_000 });
    const s = sessionsFromConfig(up, cfg.site);
    expect(s.map((x) => [x.url, x.username, x.password, x.protocolVersion])).toEqual([
      ['mqtt://a:1883', 'u', 'pw', 4],
      ['mqtts://b:8883', 'v', 'pw', 5],
    ]);
  });
});
