// SIGHUP reload (issue 20), end to end through the built CLI: a running gateway with a live
// local subscriber and a live upstream capture gets a changed file (one tag added, one device
// removed, one ACL changed). The subscriber stays connected, the upstream sees one new DBIRTH
// for the changed device and the removed device's DDEATH, no NDEATH, and the Sparkplug seq
// has no gap (no value lost). An invalid file then changes nothing and logs each error with
// file:line:col.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { decodePayload } from '../src/sparkplug/payload.js';
import { AedesUpstream } from './helpers/aedes-upstream.js';
import { startCli, type RunningCli } from './helpers/cli.js';
import { freePort } from './helpers/ports.js';
import { until } from './helpers/until.js';
import { useCleanups } from './helpers/cleanups.js';

const cleanups = useCleanups();

function siteFile(o: { dir: string; brokerPort: number; upstreamPort: number; tags: string[]; withB: boolean; plantAcl: boolean; httpPort?: number }): string {
  const tags = o.tags.map((t) => `      - { name: ${t}, signal: { kind: counter, start: 0, step: 1 } }`).join('\n');
  return `version: 1
site: { group: g, node: edge }
observe: { http: ${o.httpPort !== undefined ? `{ host: 127.0.0.1, port: ${o.httpPort} }` : '{ enabled: false }'} }
broker:
  listeners: [ { host: 127.0.0.1, port: ${o.brokerPort} } ]
  acls:
    - { topic: 'spBv1.0/#', access: readwrite }
${o.plantAcl ? "    - { topic: 'plant/#', access: read }\n" : ''}store: { path: ${join(o.dir, 'fg.db')} }
upstream: { url: 'mqtt://127.0.0.1:${o.upstreamPort}', protocolVersion: 4 }   # aedes speaks 3.1.1
devices:
  - name: a
    driver: simulator
    pollInterval: 100ms
    connection: { seed: 1 }
    tags:
${tags}
${o.withB ? `  - name: b
    driver: simulator
    pollInterval: 100ms
    connection: { seed: 2 }
    tags:
      - { name: x, signal: { kind: counter, start: 0, step: 1 } }
` : ''}`;
}

async function subscribe(client: mqtt.MqttClient, filter: string): Promise<number> {
  try {
    const granted = await client.subscribeAsync(filter, { qos: 0 });
    return granted[0]?.qos ?? -1;
  } catch (e) {
    // mqtt.js rejects a SUBACK that refuses every filter (0x80).
    if (/Subscribe error/.test(String(e))) return 128;
    throw e;
  }
}

const kind = (topic: string): string => topic.split('/')[2] ?? '';

describe('SIGHUP reload (issue 20)', () => {
  it('applies a changed file live and refuses an invalid one without changing anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-reload-'));
    const upstream = await AedesUpstream.started(cleanups);
    const brokerPort = await freePort();
    const file = join(dir, 'site.yaml');
    const httpPort = await freePort();
    const base = { dir, brokerPort, upstreamPort: upstream.port, httpPort };
    writeFileSync(file, siteFile({ ...base, tags: ['t1'], withB: true, plantAcl: false }));

    const gw: RunningCli = startCli(['run', '--config', file]);
    cleanups.push(() => void gw.child.kill('SIGKILL'));
    await gw.waitFor((l) => l.includes('"gateway started"'), 15_000);
    const born = (): boolean => upstream.received.some((r) => r.topic === 'spBv1.0/g/DBIRTH/edge/b') && upstream.received.some((r) => r.topic === 'spBv1.0/g/DDATA/edge/a');
    await until(born, 15_000, 'births upstream').catch((e: unknown) => {
      throw new Error(`${String(e)}\n${gw.lines.slice(-15).join('\n')}`);
    });

    // The live local subscriber: connected before the reload, must never be dropped.
    const local = await mqtt.connectAsync(`mqtt://127.0.0.1:${brokerPort}`, { reconnectPeriod: 0, clientId: 'hmi-live' });
    cleanups.push(() => local.endAsync(true));
    let closed = 0;
    local.on('close', () => (closed += 1));
    const seen: string[] = [];
    local.on('message', (topic) => seen.push(topic));
    expect(await subscribe(local, 'spBv1.0/g/+/edge/#')).toBe(0);
    expect(await subscribe(local, 'plant/#')).toBe(128); // the ACL does not allow it yet

    const mark = upstream.received.length;
    const seenMark = seen.length;
    writeFileSync(file, siteFile({ ...base, tags: ['t1', 't2'], withB: false, plantAcl: true }));
    gw.child.kill('SIGHUP');
    const line = await gw.waitFor((l) => l.includes('"config reloaded"'), 10_000);
    expect(JSON.parse(line)).toMatchObject({ added: [], removed: ['b'], changed: ['a'], brokerAccess: true });
    await until(() => upstream.received.slice(mark).some((r) => r.topic === 'spBv1.0/g/DBIRTH/edge/a'), 10_000, 'DBIRTH of a');
    const afterBirth = upstream.received.length;
    await until(() => upstream.received.slice(afterBirth).filter((r) => r.topic === 'spBv1.0/g/DDATA/edge/a').length >= 3, 10_000, 'data after the reload');

    const after = upstream.received.slice(mark);
    expect(after.filter((r) => r.topic === 'spBv1.0/g/DBIRTH/edge/a')).toHaveLength(1);
    expect(after.filter((r) => r.topic === 'spBv1.0/g/DDEATH/edge/b')).toHaveLength(1);
    expect(after.filter((r) => kind(r.topic) === 'NBIRTH' || r.topic.endsWith('/b') && kind(r.topic) === 'DBIRTH')).toHaveLength(0);
    expect(upstream.received.filter((r) => kind(r.topic) === 'NDEATH')).toHaveLength(0);
    const birth = decodePayload(upstream.received.find((r, i) => i >= mark && r.topic === 'spBv1.0/g/DBIRTH/edge/a')?.payload ?? Buffer.alloc(0));
    expect(birth.metrics.map((m) => m.name)).toEqual(expect.arrayContaining(['t1', 't2']));
    // One session, one seq run: 0..255 with no gap means no message of it was lost.
    const seqs = upstream.received.filter((r) => kind(r.topic) !== 'NBIRTH' && kind(r.topic) !== 'NDEATH' && r.topic.startsWith('spBv1.0/')).map((r) => decodePayload(r.payload).seq ?? -1);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i], `seq at ${i}`).toBe(((seqs[i - 1] ?? 0) + 1) % 256);
    // The ACL change applies to a new SUBSCRIBE on the same, still connected, client.
    expect(await subscribe(local, 'plant/#')).toBe(0);
    expect(closed).toBe(0);
    expect(local.connected).toBe(true);
    await until(() => seen.slice(seenMark).some((t) => t === 'spBv1.0/g/DDATA/edge/a'), 5_000, 'local data after the reload');

    // An invalid file: every problem logged with file:line:col, nothing changes, no exit.
    const mark2 = upstream.received.length;
    writeFileSync(file, siteFile({ ...base, tags: ['t1'], withB: true, plantAcl: false }).replace('pollInterval: 100ms', 'pollInterval: fast').replace('    connection: { seed: 2 }', '    connection: { seed: 2 }\n    colour: red'));
    gw.child.kill('SIGHUP');
    await gw.waitFor((l) => l.includes('reload refused'), 10_000);
    const errors = gw.lines.filter((l) => l.includes('"FG_ERR_CONFIG"') && /site\.yaml:\d+:\d+: /.test(l));
    expect(errors.some((l) => l.includes('devices[0].pollInterval'))).toBe(true);
    expect(errors.some((l) => l.includes('devices[1].colour'))).toBe(true);
    await new Promise((r) => setTimeout(r, 600));
    const since = upstream.received.slice(mark2);
    expect(since.filter((r) => ['DBIRTH', 'DDEATH', 'NBIRTH', 'NDEATH'].includes(kind(r.topic)))).toHaveLength(0);
    expect(since.some((r) => r.topic === 'spBv1.0/g/DDATA/edge/a')).toBe(true);
    expect(gw.child.exitCode).toBeNull();
    expect(local.connected).toBe(true);
    const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    expect(metrics).toContain('fieldgate_config_reloads_total{result="applied"} 1');
    expect(metrics).toContain('fieldgate_config_reloads_total{result="invalid"} 1');

    gw.child.kill('SIGTERM');
    expect((await gw.exited).code).toBe(0);
  });

  it('moves to a new upstream cleanly: NDEATH to the old one, births and data to the new one, local clients untouched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-reload-'));
    const first = await AedesUpstream.started(cleanups);
    const second = await AedesUpstream.started(cleanups);
    const brokerPort = await freePort();
    const file = join(dir, 'site.yaml');
    writeFileSync(file, siteFile({ dir, brokerPort, upstreamPort: first.port, tags: ['t1'], withB: false, plantAcl: false }));
    const gw: RunningCli = startCli(['run', '--config', file]);
    cleanups.push(() => void gw.child.kill('SIGKILL'));
    await gw.waitFor((l) => l.includes('"gateway started"'), 15_000);
    await until(() => first.received.some((r) => r.topic === 'spBv1.0/g/DDATA/edge/a'), 15_000, 'data on the first upstream');
    const local = await mqtt.connectAsync(`mqtt://127.0.0.1:${brokerPort}`, { reconnectPeriod: 0 });
    cleanups.push(() => local.endAsync(true));

    writeFileSync(file, siteFile({ dir, brokerPort, upstreamPort: second.port, tags: ['t1'], withB: false, plantAcl: false }));
    gw.child.kill('SIGHUP');
    const line = await gw.waitFor((l) => l.includes('"config reloaded"'), 10_000);
    expect(JSON.parse(line)).toMatchObject({ reconnected: ['upstream'], changed: [], removed: [] });
    expect(JSON.parse(line)).not.toHaveProperty('restartNeeded');
    await until(() => first.received.some((r) => kind(r.topic) === 'NDEATH'), 10_000, 'NDEATH on the old upstream');
    await until(() => second.received.some((r) => r.topic === 'spBv1.0/g/DDATA/edge/a'), 10_000, 'data on the new upstream');
    const kinds = second.received.map((r) => kind(r.topic));
    expect(kinds.indexOf('NBIRTH')).toBe(0);
    expect(kinds.indexOf('DBIRTH')).toBeGreaterThan(0);
    expect(local.connected).toBe(true);
    expect(gw.child.exitCode).toBeNull();
    gw.child.kill('SIGTERM');
    expect((await gw.exited).code).toBe(0);
  });
});
