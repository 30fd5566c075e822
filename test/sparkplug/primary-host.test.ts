// Primary host awareness (Sparkplug 3.0, 5.x): births wait for the configured host's STATE
// online, another host's STATE changes nothing, a stale offline is ignored, and a fresh
// offline makes the edge node publish NDEATH, disconnect and start over with a new bdSeq.
import { describe, expect, it } from 'vitest';
import { AedesUpstream } from '../helpers/aedes-upstream.js';
import { birthMetric, TestHost } from './host.js';
import { startGateway } from './gateway-fixture.js';
import { useCleanups } from '../helpers/cleanups.js';

const cleanups = useCleanups({ ignoreErrors: true });

const state = (online: boolean, timestamp: number) => JSON.stringify({ online, timestamp });

describe('Sparkplug primary host', () => {
  it('waits for the right host, ignores stale STATE, and restarts the session when the host goes offline', async () => {
    const broker = await AedesUpstream.started(cleanups);
    const host = await TestHost.connected(broker.url, cleanups);
    const gw = await startGateway({ url: broker.url, primaryHost: 'scada' });
    cleanups.push(gw.stop);

    // Connected and subscribed, but no birth while the primary host is unknown.
    await new Promise((r) => setTimeout(r, 400));
    expect(broker.subscribed).toContain('spBv1.0/STATE/scada');
    expect(host.of('NBIRTH')).toHaveLength(0);

    // The wrong host coming online changes nothing.
    await host.publish('spBv1.0/STATE/other', state(true, 1000), { retain: true });
    await new Promise((r) => setTimeout(r, 300));
    expect(host.of('NBIRTH')).toHaveLength(0);
    // Values kept coming meanwhile, and stayed in the outbox.
    expect(gw.gateway.upstreamPath!.store.outbox.stats().depth).toBeGreaterThan(0);

    // The right host: births, then the held values as historical.
    await host.publish('spBv1.0/STATE/scada', state(true, 2000), { retain: true });
    const nbirth = await host.waitFor((m) => m.type === 'NBIRTH');
    expect(Number(birthMetric(nbirth, 'bdSeq')?.longValue)).toBe(0);
    const firstData = await host.waitFor((m) => m.type === 'DDATA');
    expect(firstData.p.metrics?.[0]?.isHistorical).toBe(true);

    // A stale offline (older than the online we saw) is ignored.
    await host.publish('spBv1.0/STATE/scada', state(false, 1500), { retain: false });
    await new Promise((r) => setTimeout(r, 300));
    expect(host.of('NDEATH')).toHaveLength(0);

    // A fresh offline: NDEATH with the current bdSeq, then a new session that again waits.
    const before = host.messages.length;
    await host.publish('spBv1.0/STATE/scada', state(false, 3000), { retain: true });
    const death = await host.waitFor((m) => m.type === 'NDEATH', before);
    expect(death.p.metrics).toEqual([expect.objectContaining({ name: 'bdSeq', longValue: '0' })]);
    await new Promise((r) => setTimeout(r, 500));
    expect(host.messages.slice(before).filter((m) => m.type === 'NBIRTH')).toHaveLength(0);

    // Online again: births with the next bdSeq.
    await host.publish('spBv1.0/STATE/scada', state(true, 4000), { retain: true });
    const reborn = await host.waitFor((m) => m.type === 'NBIRTH', before);
    expect(Number(birthMetric(reborn, 'bdSeq')?.longValue)).toBe(1);
  });
});
