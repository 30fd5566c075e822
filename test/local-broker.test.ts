// What the site's own clients get from the gateway's local broker: the Sparkplug stream
// (always live, even with no upstream), plain JSON values, and writes through command topics
// that the broker's ACL guards. mqtt.js clients on loopback, a real gateway in this process.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { DataType } from '../src/sparkplug/datatypes.js';
import { encodePayload } from '../src/sparkplug/payload.js';
import { decodeIndependently } from './sparkplug/independent-decoder.js';
import { hashPassword } from '../src/broker/index.js';
import { untilValue } from './helpers/until.js';
import { useCleanups } from './helpers/cleanups.js';
import { runGateway } from './helpers/gateway.js';
import { simulatedPump } from './helpers/site-yaml.js';

const cleanups = useCleanups({ ignoreErrors: true });

async function gateway(extra = '') {
  const dir = mkdtempSync(join(tmpdir(), 'fg-local-'));
  const viewerHash = await hashPassword('viewer-pw');
  const operatorHash = await hashPassword('operator-pw');
  const gw = await runGateway(`version: 1
site: { group: plant, node: edge-1 }
observe: { http: { enabled: false } }
store: { path: ${join(dir, 'fg.db')} }
broker:
  listeners: [ { host: 127.0.0.1, port: 0 } ]
  users:
    - { username: viewer, passwordHash: '${viewerHash}' }
    - { username: operator, passwordHash: '${operatorHash}' }
  acls:
    - { topic: 'spBv1.0/#', access: read }
    - { topic: 'fieldgate/#', access: read }
    - { user: operator, topic: 'fieldgate/cmd/#', access: write }
    - { user: operator, topic: 'spBv1.0/plant/DCMD/#', access: write }
    - { user: operator, topic: 'spBv1.0/plant/NCMD/#', access: write }
local: { values: { enabled: true } }
devices:${simulatedPump('{ name: sp, type: int16, unit: bar, writable: true, signal: { kind: constant, value: 5 } }')}${extra}`, dir, cleanups);
  const port = gw.localBroker!.addresses()[0]!.port;
  return { gw, port, dir };
}

async function client(port: number, username: string, password: string): Promise<{ c: MqttClient; got: Array<{ topic: string; payload: Buffer; retain: boolean }> }> {
  const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, { username, password, protocolVersion: 5, reconnectPeriod: 0 });
  cleanups.push(() => new Promise<void>((r) => c.end(true, {}, () => r())));
  const got: Array<{ topic: string; payload: Buffer; retain: boolean }> = [];
  c.on('message', (topic, payload, packet) => got.push({ topic, payload, retain: packet.retain }));
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
  });
  return { c, got };
}


const subscribe = (c: MqttClient, filter: string) => new Promise<number>((resolve) => c.subscribe(filter, { qos: 1 }, (_e, granted) => resolve(granted?.[0]?.qos ?? -1)));
const publish = (c: MqttClient, topic: string, payload: Buffer | string) => new Promise<number | undefined>((resolve) => c.publish(topic, payload, { qos: 1 }, (e, packet) => resolve((e as { code?: number } | undefined)?.code ?? (packet as { reasonCode?: number } | undefined)?.reasonCode)));

describe('local broker', () => {
  it('carries the Sparkplug stream without any upstream: a rebirth request brings NBIRTH and DBIRTH, then DDATA', async () => {
    const { port } = await gateway();
    const { c, got } = await client(port, 'operator', 'operator-pw');
    await subscribe(c, 'spBv1.0/#');
    await publish(c, 'spBv1.0/plant/NCMD/edge-1', Buffer.from(encodePayload({ metrics: [{ name: 'Node Control/Rebirth', type: DataType.Boolean, value: true }] })));
    const nbirth = await untilValue(() => got.find((m) => m.topic === 'spBv1.0/plant/NBIRTH/edge-1'));
    const p = decodeIndependently(nbirth.payload);
    expect(p.seq).toBe('0');
    const dbirthAt = await untilValue(() => {
      const i = got.findIndex((m) => m.topic === 'spBv1.0/plant/DBIRTH/edge-1/pump');
      return i >= 0 ? i : undefined;
    });
    await untilValue(() => got.slice(dbirthAt).find((m) => m.topic === 'spBv1.0/plant/DDATA/edge-1/pump'));
    expect(got.indexOf(nbirth)).toBeLessThan(dbirthAt);
  });

  it('publishes plain JSON current values, retained, with unit and quality', async () => {
    const { port } = await gateway();
    await new Promise((r) => setTimeout(r, 300));
    const { c, got } = await client(port, 'viewer', 'viewer-pw');
    await subscribe(c, 'fieldgate/values/#');
    const sp = await untilValue(() => got.find((m) => m.topic === 'fieldgate/values/pump/sp'));
    expect(sp.retain).toBe(true);
    expect(JSON.parse(sp.payload.toString())).toMatchObject({ value: 5, quality: 'GOOD', unit: 'bar' });
  });

  it('takes a JSON write on the command topic, answers on the result topic, journals it; the ACL keeps viewers out', async () => {
    const { gw, port } = await gateway();
    const op = await client(port, 'operator', 'operator-pw');
    await subscribe(op.c, 'fieldgate/#');
    await new Promise((r) => setTimeout(r, 200));
    expect(await publish(op.c, 'fieldgate/cmd/pump/sp', '42')).toBeFalsy();
    const result = await untilValue(() => op.got.find((m) => m.topic === 'fieldgate/cmd-result/pump/sp'));
    expect(JSON.parse(result.payload.toString())).toEqual({ ok: true });
    await untilValue(() => op.got.find((m) => m.topic === 'fieldgate/values/pump/sp' && JSON.parse(m.payload.toString()).value === 42));

    await publish(op.c, 'fieldgate/cmd/pump/count', '1');
    const refused = await untilValue(() => op.got.filter((m) => m.topic === 'fieldgate/cmd-result/pump/count')[0]);
    expect(JSON.parse(refused.payload.toString())).toMatchObject({ ok: false, error: expect.stringContaining('not writable') });

    const viewer = await client(port, 'viewer', 'viewer-pw');
    // MQTT 5: a denied PUBLISH is answered 0x87 and never reaches the gateway.
    expect(await publish(viewer.c, 'fieldgate/cmd/pump/sp', '7')).toBe(0x87);
    await new Promise((r) => setTimeout(r, 300));
    const store = (gw as unknown as { store: { db: import('better-sqlite3').Database } }).store;
    const rows = store.db.prepare('SELECT source, device, metric, value, result FROM command_journal ORDER BY id').all();
    expect(rows).toEqual([
      { source: 'local', device: 'pump', metric: 'sp', value: '42', result: 'ok' },
      { source: 'local', device: 'pump', metric: 'count', value: '1', result: 'failed' },
    ]);
  });
});
