// The status page's data over real HTTP: /status.json and /events (SSE frames parsed as a
// browser would) from a real gateway with simulated devices, its local broker, a real MQTT
// client and an aedes upstream that goes away and comes back. The browser itself is in
// status-page.interop.test.ts; the login off loopback in status-page-login.test.ts.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { builtinDrivers } from '../drivers/all.js';
import { ConfigError, parseConfigText } from '../src/config/load.js';
import { HealthRegistry } from '../src/observe/health.js';
import { ObserveServer } from '../src/observe/http-server.js';
import { silentLogger } from '../src/observe/logger.js';
import { MetricsRegistry } from '../src/observe/metrics.js';
import { StatusEvents } from '../src/observe/status-events.js';
import type { StatusPatch, StatusSnapshot } from '../src/observe/status-model.js';
import { STATUS_PAGE_HTML } from '../src/observe/status-page/page.js';
import { AedesUpstream } from './helpers/aedes-upstream.js';
import { until } from './helpers/until.js';
import { openSse, type SseStream } from './status-page-sse.js';
import { useCleanups } from './helpers/cleanups.js';
import { runGateway } from './helpers/gateway.js';

const cleanups = useCleanups({ ignoreErrors: true });

const SITE = (upstreamUrl: string | undefined, dir: string) => `version: 1
site: { group: plant, node: edge-1 }
observe: { http: { host: 127.0.0.1, port: 0 } }
store: { path: ${join(dir, 'fg.db')} }
broker: { listeners: [ { host: 127.0.0.1, port: 0 } ] }
${upstreamUrl !== undefined ? `upstream: { url: ${upstreamUrl}, protocolVersion: 4, reconnect: { min: 100ms, max: 200ms }, replay: { rate: 5/s } }` : ''}
devices:
  - name: pump
    driver: simulator
    pollInterval: 100ms
    tags:
      - { name: count, type: uint32, signal: { kind: counter }, unit: strokes }
      - { name: note, type: string, signal: { kind: states, values: ['<img src=x onerror=alert(1)>'], period: 1s } }
  - name: tank
    driver: simulator
    pollInterval: 100ms
    timeout: 50ms
    offlineAfter: 2
    backoff: { initial: 200ms, max: 400ms }
    connection: { faults: [ { after: 1500ms, for: 1500ms, every: 60s } ] }
    tags:
      - { name: level, signal: { kind: sine, min: 1, max: 4, period: 10s }, unit: m }
`;

async function gateway(upstreamUrl?: string) {
  const dir = mkdtempSync(join(tmpdir(), 'fg-status-'));
  const gw = await runGateway(SITE(upstreamUrl, dir), dir, cleanups);
  return { gw, base: `http://127.0.0.1:${gw.observeAddress!.port}` };
}

async function status(base: string): Promise<StatusSnapshot> {
  const res = await fetch(`${base}/status.json`);
  expect(res.status).toBe(200);
  return (await res.json()) as StatusSnapshot;
}

/** Polls /status.json until `pred` holds; returns that snapshot. */
async function statusUntil(base: string, pred: (s: StatusSnapshot) => boolean, what: string, ms = 10_000): Promise<StatusSnapshot> {
  const start = Date.now();
  for (;;) {
    const s = await status(base);
    if (pred(s)) return s;
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(s).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const device = (s: StatusSnapshot, name: string) => s.devices.find((d) => d.name === name)!;
const tag = (s: StatusSnapshot, dev: string, name: string) => device(s, dev).tags.find((t) => t.name === name)!;

describe('status page data over real HTTP', () => {
  it('/status.json shows devices, tags, the upstream link and Sparkplug state, the backlog draining and the broker clients', async () => {
    const upstream = await AedesUpstream.started(cleanups);
    const { gw, base } = await gateway(upstream.url);

    const live = await statusUntil(base, (s) => s.upstream?.connected === true && s.upstream.born && device(s, 'pump').state === 'online', 'upstream born, pump online');
    expect(live.site).toMatchObject({ group: 'plant', node: 'edge-1' });
    const count = tag(live, 'pump', 'count');
    expect(count).toMatchObject({ quality: 'GOOD', unit: 'strokes' });
    expect(typeof count.value).toBe('number');
    expect(Math.abs(live.now - count.sourceTime)).toBeLessThan(2_000);
    // Strings arrive as data, exactly as the device gave them; the page renders them as text.
    expect(tag(live, 'pump', 'note').value).toBe('<img src=x onerror=alert(1)>');
    expect(device(live, 'pump').pollErrors).toBe(0);
    expect(live.now - device(live, 'pump').lastPollAt).toBeLessThan(1_000);
    expect(live.upstream!.bdSeq).toBeGreaterThanOrEqual(0);

    // A local client shows up with where it came from.
    const port = gw.localBroker!.addresses()[0]!.port;
    const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId: 'hmi-7', reconnectPeriod: 0 });
    cleanups.push(() => new Promise<void>((r) => client.end(true, {}, () => r())));
    const withClient = await statusUntil(base, (s) => (s.broker?.clients.length ?? 0) > 0, 'broker client listed');
    expect(withClient.broker!.clients).toEqual([expect.objectContaining({ clientId: 'hmi-7', remoteAddress: '127.0.0.1', protocolVersion: 4 })]);
    expect(withClient.broker!.listeners[0]).toMatchObject({ protocol: 'mqtt', port });

    // Outage: the link and the birth go, the backlog grows and nothing drains it.
    await upstream.stop();
    const down = await statusUntil(base, (s) => s.upstream!.connected === false && s.upstream!.backlog > 10, 'backlog during outage');
    expect(down.upstream!.born).toBe(false);
    expect(down.upstream!.etaSeconds).toBe(-1);
    expect(down.upstream!.backlogBytes).toBeGreaterThan(0);

    // Back: replay at 5 records/s gives a measurable rate and a finite ETA, then an empty outbox.
    await upstream.restart();
    const draining = await statusUntil(base, (s) => s.upstream!.connected && s.upstream!.backlog > 0 && s.upstream!.etaSeconds > 0, 'drain ETA', 15_000);
    expect(draining.upstream!.replayRate).toBeGreaterThan(0);
    const drained = await statusUntil(base, (s) => s.upstream!.backlog === 0, 'backlog drained', 30_000);
    expect(drained.upstream!.etaSeconds).toBe(0);
  }, 60_000);

  it('shows a device going offline with its tags BAD and its failed polls, then online again', async () => {
    const { base } = await gateway();
    const offline = await statusUntil(base, (s) => device(s, 'tank').state === 'offline', 'tank offline');
    expect(tag(offline, 'tank', 'level').quality).toBe('BAD');
    expect(device(offline, 'tank').pollErrors).toBeGreaterThanOrEqual(2);
    expect(device(offline, 'tank').lastError).toBeTruthy();
    expect(device(offline, 'pump').state).toBe('online');
    const back = await statusUntil(base, (s) => device(s, 'tank').state === 'online' && tag(s, 'tank', 'level').quality === 'GOOD', 'tank online again');
    expect(device(back, 'tank').lastError).toBeUndefined();
  });

  it('/events sends a snapshot, then at most one patch a second with what changed, and ends when the gateway stops', async () => {
    const { gw, base } = await gateway();
    const sse = await openSse(`${base}/events`);
    cleanups.push(() => sse.close());
    expect(sse.status).toBe(200);
    expect(sse.headers['content-type']).toMatch(/^text\/event-stream/);
    await until(() => sse.frames.length >= 4, 10_000, 'snapshot and three patches');

    const [first, ...patches] = sse.frames;
    expect(first!.event).toBe('snapshot');
    const snap = JSON.parse(first!.data) as StatusSnapshot;
    expect(snap.devices.map((d) => d.name)).toEqual(['pump', 'tank']);
    expect(patches.every((f) => f.event === 'patch')).toBe(true);
    // Throttled: the pump's counter moves every 100 ms, yet patches come about a second apart.
    for (let i = 1; i < patches.length; i++) expect(patches[i]!.at - patches[i - 1]!.at).toBeGreaterThan(700);
    const counts = patches.map((f) => (JSON.parse(f.data) as StatusPatch).devices?.find((d) => d.name === 'pump')?.tags.find((t) => t.name === 'count')?.value);
    expect(counts.every((c) => typeof c === 'number')).toBe(true);
    expect(counts as number[]).toEqual([...(counts as number[])].sort((a, b) => a - b));
    expect(counts[counts.length - 1]).not.toBe(counts[0]);

    const t0 = Date.now();
    await gw.stop();
    cleanups.pop();
    await sse.ended;
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it('serves the page itself with a strict CSP, small, and building the DOM without markup from data', async () => {
    const { base } = await gateway();
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'.*script-src 'sha256-/);
    const html = await res.text();
    expect(html).toBe(STATUS_PAGE_HTML);
    expect(Buffer.byteLength(html)).toBeLessThan(12 * 1024);
    for (const sink of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'eval(']) expect(html).not.toContain(sink);
  });
});

describe('status events, bounded', () => {
  async function server(events: StatusEvents, snapshot: () => StatusSnapshot) {
    const s = new ObserveServer({ host: '127.0.0.1', port: 0, metrics: new MetricsRegistry(), health: new HealthRegistry(), logger: silentLogger(), status: { snapshot, events } });
    const addr = await s.listen();
    cleanups.push(() => s.close());
    return `http://127.0.0.1:${addr.port}`;
  }
  const still: StatusSnapshot = { now: 1, site: { group: 'g', node: 'n', version: '0', startedAt: 0 }, devices: [], upstream: null, broker: null };

  it('refuses clients beyond the limit with 503 and takes new ones once others leave', async () => {
    const events = new StatusEvents({ snapshot: () => still, maxClients: 2 });
    const base = await server(events, () => still);
    const a = await openSse(`${base}/events`);
    const b = await openSse(`${base}/events`);
    cleanups.push(() => a.close(), () => b.close());
    expect([a.status, b.status]).toEqual([200, 200]);
    const c = await openSse(`${base}/events`);
    expect(c.status).toBe(503);
    a.close();
    await until(() => events.clientCount === 1, 5_000, 'client a gone');
    const d = await openSse(`${base}/events`);
    cleanups.push(() => d.close());
    expect(d.status).toBe(200);
  });

  it('sends keepalive comments when nothing changes', async () => {
    const events = new StatusEvents({ snapshot: () => still, interval: 50, keepalive: 200 });
    const base = await server(events, () => still);
    const sse: SseStream = await openSse(`${base}/events`);
    cleanups.push(() => sse.close());
    await until(() => sse.frames.filter((f) => f.comments.includes('keepalive')).length >= 2, 5_000, 'two keepalives');
    expect(sse.frames.filter((f) => f.event === 'patch')).toHaveLength(0);
  });
});

describe('observe.http off loopback needs a login over TLS', () => {
  const parse = (http: string) => () => parseConfigText(`version: 1\nsite: { group: g, node: n }\nobserve:\n  http: ${http}\ndevices: []\n`, '/site.yaml', builtinDrivers);

  it('refuses a non-loopback bind without users and tls, pointing at the host line', () => {
    expect(parse('{ host: 0.0.0.0, port: 8080 }')).toThrow(ConfigError);
    try {
      parse('{ host: 0.0.0.0, port: 8080 }')();
    } catch (e) {
      const issue = (e as ConfigError).issues[0]!;
      expect(issue).toMatchObject({ line: 4, path: 'observe.http.host' });
      expect(issue.message).toMatch(/not a loopback address.*users.*tls/);
    }
    expect(parse('{ host: 192.0.2.2, users: /etc/fieldgate/http-users }')).toThrow(/add tls \(cert and key\)/);
    expect(parse('{ host: "::", tls: { cert: a.pem, key: a.key } }')).toThrow(/add users \(a password file\)/);
  });

  it('accepts loopback binds without a login, and non-loopback ones with both', () => {
    expect(parse('{ host: 127.0.0.1 }')).not.toThrow();
    expect(parse('{ host: localhost }')).not.toThrow();
    expect(parse('{ host: "::1" }')).not.toThrow();
    expect(parse('{ host: 0.0.0.0, users: /etc/fieldgate/http-users, tls: { cert: a.pem, key: a.key } }')).not.toThrow();
  });
});
