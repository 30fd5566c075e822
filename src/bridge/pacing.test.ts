import { describe, expect, it } from 'vitest';
import { ManualClock } from '../shared/clock.js';
import { backoffDelay } from './backoff.js';
import { Pacer } from './pacer.js';
import { buildClientOptions } from './upstream-options.js';
import { upstreamSchema } from '../config/sections/upstream.js';

describe('backoffDelay', () => {
  const p = { minMs: 1000, maxMs: 60_000, jitter: 0.5 };
  it('doubles from min to max', () => {
    expect([0, 1, 2, 3, 6, 7, 40].map((a) => backoffDelay(a, p, () => 1))).toEqual([1000, 2000, 4000, 8000, 60_000, 60_000, 60_000]);
  });
  it('randomises only the jitter share of the delay', () => {
    expect(backoffDelay(2, p, () => 0)).toBe(2000);
    expect(backoffDelay(2, p, () => 0.5)).toBe(3000);
    expect(backoffDelay(2, { ...p, jitter: 0 }, () => 0.9)).toBe(4000);
  });
});

describe('Pacer', () => {
  it('lets through perSecond records per second after a tenth-second burst', async () => {
    const clock = new ManualClock();
    const pacer = new Pacer({ unit: 'messages', perSecond: 100 }, clock);
    let passed = 0;
    for (let i = 0; i < 1000 && pacer.tryTake(1); i++) passed++;
    expect(passed).toBe(10);
    expect(pacer.waitMs(1)).toBe(10);
    await clock.advance(1000);
    passed = 0;
    for (let i = 0; i < 1000 && pacer.tryTake(1); i++) passed++;
    expect(passed).toBe(10); // the bucket holds at most the burst
    let total = 0;
    for (let ms = 0; ms < 1000; ms += 10) {
      await clock.advance(10);
      while (pacer.tryTake(1)) total++;
    }
    expect(total).toBe(100);
  });

  it('paces bytes and lets a record larger than the bucket through when it is full', () => {
    const clock = new ManualClock();
    const pacer = new Pacer({ unit: 'bytes', perSecond: 10_000 }, clock);
    expect(pacer.cost(5000)).toBe(5000);
    expect(pacer.tryTake(5000)).toBe(true);
    expect(pacer.tryTake(1)).toBe(false);
  });

  it('is a no-op at rate 0', () => {
    const pacer = new Pacer({ unit: 'messages', perSecond: 0 }, new ManualClock());
    for (let i = 0; i < 1000; i++) expect(pacer.tryTake(1)).toBe(true);
  });
});

describe('upstream config and client options', () => {
  it('parses rates in messages and bytes per second', () => {
    const parse = (rate: unknown) => upstreamSchema.parse({ url: 'mqtt://x', replay: { rate } }).replay.rate;
    expect(parse(500)).toEqual({ unit: 'messages', perSecond: 500 });
    expect(parse('500/s')).toEqual({ unit: 'messages', perSecond: 500 });
    expect(parse('2MiB/s')).toEqual({ unit: 'bytes', perSecond: 2 * 1024 * 1024 });
    expect(upstreamSchema.parse({ url: 'mqtt://x' }).replay.rate).toEqual({ unit: 'messages', perSecond: 0 });
    expect(() => parse('fast')).toThrow(/not a rate/);
  });

  it('keeps the existing keys and fills the new defaults', () => {
    const cfg = upstreamSchema.parse({ url: 'mqtts://c:8883', protocolVersion: 4, tls: { ca: '/ca.pem' } });
    expect(cfg).toMatchObject({ protocolVersion: 4, inflight: 100, maxQos: 2, keepalive: 30_000, reconnect: { min: 1000, max: 60_000, jitter: 0.5 }, tls: { rejectUnauthorized: true } });
  });

  it('refuses a missing TLS file with FG_ERR_UPSTREAM_TLS before connecting', () => {
    expect(() =>
      buildClientOptions({ url: 'mqtts://x', protocolVersion: 5, clientId: 'c', keepaliveMs: 30_000, connectTimeoutMs: 1000, tls: { ca: '/nonexistent/ca.pem', rejectUnauthorized: true } }),
    ).toThrow(expect.objectContaining({ code: 'FG_ERR_UPSTREAM_TLS', message: expect.stringContaining('/nonexistent/ca.pem') }));
  });

  it('asks for a clean session, no mqtt.js reconnects, and Session Expiry 0 on MQTT 5', () => {
    const o = buildClientOptions({ url: 'mqtt://x', protocolVersion: 5, clientId: 'c', keepaliveMs: 15_000, connectTimeoutMs: 1000 });
    expect(o).toMatchObject({ clean: true, reconnectPeriod: 0, keepalive: 15, protocolVersion: 5, properties: { sessionExpiryInterval: 0 } });
  });
});

describe('config to options', () => {
  it('maps the upstream section and site identity onto bridge options', async () => {
    const { bridgeOptionsFromConfig } = await import('./from-config.js');
    const cfg = upstreamSchema.parse({ url: 'mqtt://c:1883', replay: { rate: '200/s' }, reconnect: { min: '2s', max: '1m' }, inflight: 50 });
    expect(bridgeOptionsFromConfig(cfg, { group: 'plant1', node: 'press-4' })).toMatchObject({
      node: 'plant1/press-4',
      session: { clientId: 'fieldgate-plant1-press-4', protocolVersion: 5, keepaliveMs: 30_000 },
      inflight: 50,
      replayRate: { unit: 'messages', perSecond: 200 },
      backoff: { minMs: 2000, maxMs: 60_000, jitter: 0.5 },
    });
  });

  it('refuses forward and command rules that would loop, with the path of the offending rule', () => {
    const r = upstreamSchema.safeParse({ url: 'mqtt://c', forward: [{ from: 'site/#', to: 'central/s1' }], commands: [{ from: 'central/s1/cmd/#' }] });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]).toMatchObject({ path: ['forward', 0, 'to'], message: expect.stringContaining('a loop') });
  });
});
