// The Sparkplug B lifecycle as a host sees it: a real gateway (simulator devices) publishing
// to aedes on loopback, an mqtt.js host on spBv1.0/#, every payload decoded by protobufjs from
// the official proto. Rules are cited by TCK id; docs/sparkplug.md maps each one to its test.
import { describe, expect, it } from 'vitest';
import { AedesUpstream } from '../helpers/aedes-upstream.js';
import { encodePayload } from '../../src/sparkplug/payload.js';
import { DataType } from '../../src/sparkplug/datatypes.js';
import { birthMetric, TestHost, type HostMessage } from './host.js';
import { startGateway, type FixtureOptions } from './gateway-fixture.js';
import { simulatedOutage } from '../helpers/site-yaml.js';
import { useCleanups } from '../helpers/cleanups.js';

const cleanups = useCleanups({ ignoreErrors: true });

async function world() {
  const broker = await AedesUpstream.started(cleanups);
  const host = await TestHost.connected(broker.url, cleanups);
  return { broker, host };
}

/** The world with a gateway on it, stopped after the test. */
async function worldWithGateway(options: Omit<FixtureOptions, 'url'> = {}) {
  const { broker, host } = await world();
  const gw = await startGateway({ url: broker.url, ...options });
  cleanups.push(gw.stop);
  return { broker, host, gw };
}

const seqOf = (m: HostMessage) => Number(m.p.seq);
const bdSeqOf = (m: HostMessage) => Number(birthMetric(m, 'bdSeq')?.longValue);

/** Every edge message after an NBIRTH, up to the next NBIRTH, carries seq + 1 mod 256. */
function expectSeqContinuity(messages: HostMessage[]): void {
  let expected: number | undefined;
  for (const m of messages) {
    // Deaths carry no seq; commands are the host's own messages.
    if (m.type === 'NDEATH' || m.type === 'NCMD' || m.type === 'DCMD') continue;
    if (m.type === 'NBIRTH') {
      expect(seqOf(m)).toBe(0);
      expected = 1;
      continue;
    }
    if (expected === undefined) continue;
    expect(seqOf(m), `${m.topic} seq`).toBe(expected);
    expected = (expected + 1) % 256;
  }
}

describe('Sparkplug session against aedes', () => {
  // DATA QoS per upstream.confirm (issue 13): the default qos1 departs from Sparkplug's QoS 0
  // for DATA so that a broker crash cannot lose it; the host decodes the same payloads either way.
  it.each([
    [undefined, 1],
    ['fence', 0],
    ['host', 0],
  ] as const)('births then DATA: NBIRTH seq 0 with bdSeq and Rebirth, DBIRTH with every metric, DDATA by alias without datatype (confirm %s: DATA QoS %d)', async (confirm, dataQos) => {
    const { broker, host } = await worldWithGateway(confirm !== undefined ? { confirm } : {});
    const ddata = await host.waitFor((m) => m.type === 'DDATA');
    const nbirth = host.of('NBIRTH')[0]!;
    const dbirth = host.of('DBIRTH', 'pump')[0]!;
    expect(nbirth).toMatchObject({ topic: 'spBv1.0/plant/NBIRTH/edge-1', qos: 0, retain: false });
    expect(seqOf(nbirth)).toBe(0);
    expect(bdSeqOf(nbirth)).toBe(0);
    expect(birthMetric(nbirth, 'bdSeq')?.datatype).toBe(DataType.Int64);
    expect(birthMetric(nbirth, 'Node Control/Rebirth')).toMatchObject({ datatype: DataType.Boolean, booleanValue: false });
    expect(birthMetric(nbirth, 'Node Info/Version')).toMatchObject({ datatype: DataType.String });
    expect(dbirth).toMatchObject({ qos: 0, retain: false });
    expect(seqOf(dbirth)).toBe(1);
    const sp = birthMetric(dbirth, 'sp');
    // A scaled int16 is reported as a Double in engineering units, with its unit and quality.
    expect(sp).toMatchObject({ datatype: DataType.Double, doubleValue: 5 });
    expect(sp?.properties).toMatchObject({ keys: ['Quality', 'engUnit', 'readOnly'], values: [{ intValue: 192 }, { stringValue: 'bar' }, { booleanValue: false }] });
    const countAlias = birthMetric(dbirth, 'count')?.alias;
    expect(ddata).toMatchObject({ qos: dataQos, retain: false });
    expect(ddata.p.metrics?.[0]?.alias).toBe(countAlias);
    expect(ddata.p.metrics?.[0]?.name).toBeUndefined();
    expect(ddata.p.metrics?.[0]?.datatype).toBeUndefined();
    expect(ddata.p.metrics?.[0]?.timestamp).toBeDefined();
    // Subscriptions were made before the births [tck-id-message-flow-edge-node-ncmd-subscribe].
    expect(broker.subscribed).toContain('spBv1.0/plant/NCMD/edge-1');
    expect(broker.subscribed).toContain('spBv1.0/plant/DCMD/edge-1/+');
    expectSeqContinuity(host.messages);
  });

  it('seq wraps past 255 without a gap', async () => {
    const { host } = await worldWithGateway({
      devices: `
  - { name: fast, driver: simulator, pollInterval: 10ms, tags: [ { name: n, type: uint32, signal: { kind: counter } } ] }
`,
    });
    await host.waitFor((m) => m.type === 'DDATA' && seqOf(m) === 40, 300, 20_000);
    const seqs = host.messages.map(seqOf);
    expect(seqs.slice(0, 3)).toEqual([0, 1, 2]);
    expect(seqs.indexOf(255)).toBeGreaterThan(0);
    expectSeqContinuity(host.messages);
  });

  it('bdSeq grows by one over three reconnects and a restart, and the broker delivers the matching NDEATH each time', async () => {
    const { broker, host } = await world();
    const first = await startGateway({ url: broker.url });
    cleanups.push(first.stop);
    await host.waitFor((m) => m.type === 'NBIRTH');
    for (let i = 1; i <= 3; i++) {
      // Cut only the gateway's connection: the broker then publishes its Will.
      first.gateway.upstreamPath!.bridge.reconnectNow();
      await host.waitFor((m) => m.type === 'NDEATH' && Number(m.p.metrics?.[0]?.longValue) === i - 1);
      await host.waitFor((m) => m.type === 'NBIRTH' && bdSeqOf(m) === i);
    }
    await first.stop();
    // An intentional stop publishes NDEATH with the current bdSeq.
    await host.waitFor((m) => m.type === 'NDEATH' && Number(m.p.metrics?.[0]?.longValue) === 3);
    const again = await startGateway({ url: broker.url, dir: first.dir });
    cleanups.push(again.stop);
    const nbirth = await host.waitFor((m) => m.type === 'NBIRTH' && bdSeqOf(m) === 4);
    expect(seqOf(nbirth)).toBe(0);
    const deaths = host.of('NDEATH');
    for (const d of deaths) {
      expect(d.p.seq).toBeUndefined();
      expect(d.p.metrics).toEqual([{ name: 'bdSeq', datatype: DataType.Int64, longValue: expect.any(String) }]);
    }
    expect(host.of('NBIRTH').map(bdSeqOf)).toEqual([0, 1, 2, 3, 4]);
    // Every session of the edge node was a clean one [tck-id-principles-persistence-clean-session-311].
    const edgeConnects = broker.connects.filter((c) => c.id === 'fieldgate-plant-edge-1');
    expect(edgeConnects.length).toBe(5);
    expect(edgeConnects.every((c) => c.clean)).toBe(true);
  });

  it('rebirth on NCMD: births again at once with the same bdSeq, seq back to 0, no DATA in between', async () => {
    const { broker, host } = await worldWithGateway();
    await host.waitFor((m) => m.type === 'DDATA');
    const before = broker.received.length;
    await host.publish('spBv1.0/plant/NCMD/edge-1', Buffer.from(encodePayload({ metrics: [{ name: 'Node Control/Rebirth', type: DataType.Boolean, value: true }] })));
    const reborn = await host.waitFor((m) => m.type === 'NBIRTH', host.of('NBIRTH').length > 0 ? host.messages.indexOf(host.of('NBIRTH')[0]!) + 1 : 0);
    expect(bdSeqOf(reborn)).toBe(0);
    expect(seqOf(reborn)).toBe(0);
    // On the wire (what the broker received from the gateway), the NBIRTH is followed by the
    // DBIRTH at once: nothing got between the births.
    const sent = broker.received.slice(before).map((r) => r.topic.split('/')[2]).filter((t) => t !== 'fence');
    const i = sent.indexOf('NBIRTH');
    expect(i).toBeGreaterThanOrEqual(0);
    expect(sent[i + 1]).toBe('DBIRTH');
    await host.waitFor((m) => m.type === 'DDATA', host.messages.indexOf(reborn));
    expectSeqContinuity(host.messages);
  });

  it('DDEATH when a simulated device stops answering, a fresh DBIRTH when it returns', async () => {
    const { host } = await worldWithGateway({
      devices: simulatedOutage(
        'flaky',
        { pollInterval: '100ms', timeout: '50ms', offlineAfter: '1', backoff: '{ initial: 100ms, max: 200ms }' },
        { after: '500ms', for: '700ms' },
        '{ name: n, type: uint32, signal: { kind: counter } }',
      ),
    });
    const death = await host.waitFor((m) => m.type === 'DDEATH' && m.device === 'flaky');
    expect(death.p.metrics).toBeUndefined();
    expect(death.p.timestamp).toBeDefined();
    const rebirth = await host.waitFor((m) => m.type === 'DBIRTH' && m.device === 'flaky', host.messages.indexOf(death));
    expect(birthMetric(rebirth, 'n')?.properties).toMatchObject({ keys: ['Quality', 'readOnly'], values: [{ intValue: 192 }, { booleanValue: true }] });
    // Before the DDEATH, the host got the BAD quality of the failed poll.
    const bad = host.messages.slice(0, host.messages.indexOf(death)).reverse().find((m) => m.type === 'DDATA');
    expect(bad?.p.metrics?.[0]).toMatchObject({ isNull: true, properties: { values: [{ intValue: 0 }] } });
    expectSeqContinuity(host.messages);
  });

  it('a DCMD write reaches the simulated device, shows in DDATA, and is journaled', async () => {
    const { host, gw } = await worldWithGateway();
    const dbirth = await host.waitFor((m) => m.type === 'DBIRTH');
    const alias = BigInt(birthMetric(dbirth, 'sp')?.alias as string);
    await host.publish('spBv1.0/plant/DCMD/edge-1/pump', Buffer.from(encodePayload({ metrics: [{ alias, type: DataType.Double, writeDatatype: false, value: 12.3 }] })), { qos: 0 });
    const shown = await host.waitFor((m) => m.type === 'DDATA' && m.p.metrics?.some((x) => x.alias === String(alias) && x.doubleValue === 12.3) === true);
    expect(shown).toBeDefined();
    await new Promise((r) => setTimeout(r, 50));
    const rows = gw.gateway.upstreamPath!.journal.latest(5);
    expect(rows[0]).toMatchObject({ source: 'DCMD', device: 'pump', metric: 'sp', value: '12.3', result: 'ok', error: null });
  });

  it('a rebirth request for another edge node is not ours to answer', async () => {
    const { host } = await worldWithGateway();
    await host.waitFor((m) => m.type === 'DDATA');
    await host.publish('spBv1.0/plant/NCMD/edge-2', Buffer.from(encodePayload({ metrics: [{ name: 'Node Control/Rebirth', type: DataType.Boolean, value: true }] })));
    await new Promise((r) => setTimeout(r, 300));
    expect(host.of('NBIRTH')).toHaveLength(1);
  });
});
