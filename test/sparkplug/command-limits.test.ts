// Issue 19: "4,840 NCMD produced 14,520 births" and no bound on commands. A real gateway on
// aedes, an mqtt.js host flooding it: Rebirth requests fold into at most one births sequence
// per 2 s hold-off (the last request is still answered), and DCMDs beyond the per-source rate
// are refused before they are parsed, counted in the node's command stats.
import { describe, expect, it } from 'vitest';
import { DataType } from '../../src/sparkplug/datatypes.js';
import { encodePayload } from '../../src/sparkplug/payload.js';
import { AedesUpstream } from '../helpers/aedes-upstream.js';
import { until } from '../helpers/until.js';
import { startGateway } from './gateway-fixture.js';
import { birthMetric, TestHost } from './host.js';
import { useCleanups } from '../helpers/cleanups.js';

const cleanups = useCleanups({ ignoreErrors: true });

async function world() {
  const broker = await AedesUpstream.started(cleanups);
  const host = await TestHost.connected(broker.url, cleanups);
  const gw = await startGateway({ url: broker.url });
  cleanups.push(gw.stop);
  await host.waitFor((m) => m.type === 'DDATA');
  return { broker, host, gw };
}

describe('command and rebirth limits', () => {
  it('2,000 Rebirth NCMDs give a handful of births, the last request still answered', async () => {
    const { host } = await world();
    const births = host.of('NBIRTH').length;
    const rebirth = Buffer.from(encodePayload({ metrics: [{ name: 'Node Control/Rebirth', type: DataType.Boolean, value: true }] }));
    for (let i = 0; i < 2000; i += 200) await Promise.all(Array.from({ length: 200 }, () => host.publish('spBv1.0/plant/NCMD/edge-1', rebirth, { qos: 0 })));
    const sentAt = Date.now();
    // The deferred one comes when the hold-off ends.
    await until(() => Date.now() - sentAt > 3_000, 5_000);
    const after = host.of('NBIRTH').length - births;
    expect(after).toBeGreaterThanOrEqual(1);
    expect(after).toBeLessThanOrEqual(4);
  }, 30_000);

  it('DCMDs over the rate are refused before parsing and counted', async () => {
    const { host, gw } = await world();
    const dbirth = host.of('DBIRTH')[0]!;
    const alias = BigInt(birthMetric(dbirth, 'sp')?.alias as string);
    const dcmd = (v: number) => Buffer.from(encodePayload({ metrics: [{ alias, type: DataType.Double, writeDatatype: false, value: v }] }));
    for (let i = 0; i < 2000; i += 200) await Promise.all(Array.from({ length: 200 }, (_, j) => host.publish('spBv1.0/plant/DCMD/edge-1/pump', dcmd(i + j), { qos: 0 })));
    const edge = gw.gateway.upstreamPath!.edgeNode;
    await until(() => edge.commandStats().received + edge.commandStats().rateLimited >= 2000, 10_000, 'every DCMD seen');
    expect(edge.commandStats().rateLimited).toBeGreaterThan(1000);
    expect(edge.commandStats().received).toBeLessThan(600);
  }, 30_000);
});
