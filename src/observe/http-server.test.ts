import { afterEach, describe, expect, it } from 'vitest';
import { HealthRegistry } from './health.js';
import { ObserveServer } from './http-server.js';
import { silentLogger } from './logger.js';
import { MetricsRegistry } from './metrics.js';

let server: ObserveServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(metrics = new MetricsRegistry(), health = new HealthRegistry()) {
  server = new ObserveServer({ host: '127.0.0.1', port: 0, metrics, health, logger: silentLogger() });
  const addr = await server.listen();
  return `http://127.0.0.1:${addr.port}`;
}

describe('observe endpoint over real HTTP', () => {
  it('serves Prometheus text on /metrics', async () => {
    const metrics = new MetricsRegistry();
    metrics.counter('fieldgate_test_total', 'a counter').inc({ device: 'p"1' }, 3);
    metrics.gauge('fieldgate_depth', 'a gauge').set(undefined, 7);
    metrics.histogram('fieldgate_rt_seconds', 'a histogram', [0.1, 1]).observe({ device: 'a' }, 0.5);
    const base = await start(metrics);
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const body = await res.text();
    expect(body).toContain('# TYPE fieldgate_test_total counter');
    expect(body).toContain('fieldgate_test_total{device="p\\"1"} 3');
    expect(body).toContain('fieldgate_depth 7');
    expect(body).toContain('fieldgate_rt_seconds_bucket{device="a",le="0.1"} 0');
    expect(body).toContain('fieldgate_rt_seconds_bucket{device="a",le="1"} 1');
    expect(body).toContain('fieldgate_rt_seconds_bucket{device="a",le="+Inf"} 1');
    expect(body).toContain('fieldgate_rt_seconds_count{device="a"} 1');
  });

  it('serves per-component JSON on /health: 200 when ok or degraded, 503 when a part is down', async () => {
    const health = new HealthRegistry();
    let devices: 'ok' | 'degraded' | 'down' = 'ok';
    health.register('devices', () => ({ status: devices, online: 1 }));
    health.register('store', () => ({ status: 'ok' }));
    const base = await start(undefined, health);

    let res = await fetch(`${base}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', components: { devices: { status: 'ok', online: 1 }, store: { status: 'ok' } } });

    devices = 'degraded';
    res = await fetch(`${base}/health`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: string }).status).toBe('degraded');

    devices = 'down';
    res = await fetch(`${base}/health`);
    expect(res.status).toBe(503);
  });

  it('reports a throwing health check as down instead of failing the request', async () => {
    const health = new HealthRegistry();
    health.register('broken', () => {
      throw new Error('boom');
    });
    const base = await start(undefined, health);
    const res = await fetch(`${base}/health`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'down', components: { broken: { status: 'down', error: 'boom' } } });
  });

  it('answers 404 and 405 for anything else', async () => {
    const base = await start();
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('names the address when it cannot listen', async () => {
    const base = await start();
    const port = Number(new URL(base).port);
    const second = new ObserveServer({ host: '127.0.0.1', port, metrics: new MetricsRegistry(), health: new HealthRegistry(), logger: silentLogger() });
    await expect(second.listen()).rejects.toMatchObject({ code: 'FG_ERR_LISTEN', message: expect.stringContaining(`127.0.0.1:${port}: EADDRINUSE`) });
  });
});
