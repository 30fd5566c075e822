// Issue 14: an independent Sparkplug edge node (npm `sparkplug-client`, the Eclipse Tahu
// JavaScript client) → Mosquitto → `fieldgate host`: births, data and deaths tracked without
// dedup keys; a message dropped between broker and host → one rebirth request → births → data;
// `host write` → DCMD → the edge echoes the value in DDATA.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostSchema } from '../../src/config/sections/host.js';
import { Host } from '../../src/host/host.js';
import { exportHistory } from '../../src/host/export.js';
import { SqliteHistory } from '../../src/host/sqlite-history.js';
import { hostWrite } from '../../src/host/write.js';
import { silentLogger } from '../../src/observe/logger.js';
import { DroppingProxy } from '../helpers/dropping-proxy.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { until } from '../helpers/until.js';

interface TahuMetric {
  name: string;
  type: string;
  value: unknown;
}
interface TahuClient {
  on(event: 'birth' | 'connect', f: () => void): void;
  on(event: 'ncmd', f: (p: { metrics: TahuMetric[] }) => void): void;
  on(event: 'dcmd', f: (device: string, p: { metrics: TahuMetric[] }) => void): void;
  publishNodeBirth(p: { timestamp: number; metrics: TahuMetric[] }): void;
  publishDeviceBirth(device: string, p: { timestamp: number; metrics: TahuMetric[] }): void;
  publishDeviceData(device: string, p: { timestamp: number; metrics: TahuMetric[] }): void;
  stop(): void;
}
const require = createRequire(import.meta.url);
const sparkplug = require('sparkplug-client') as { newClient(cfg: Record<string, unknown>): TahuClient };

describe('fieldgate host with an Eclipse Tahu edge node', () => {
  let broker: Mosquitto;
  let proxy: DroppingProxy;
  let dir: string;
  let host: Host;
  let tahu: TahuClient;
  let setpoint = 40;
  let births = 0;
  let n = 0;

  beforeAll(async () => {
    broker = await Mosquitto.start();
    proxy = new DroppingProxy(broker.port);
    await proxy.start();
    dir = mkdtempSync(join(tmpdir(), 'fg-host-tahu-'));
    host = new Host(hostSchema.parse({ id: 'scada-t', broker: { url: `mqtt://127.0.0.1:${proxy.port}` }, store: { path: join(dir, 'h.db') }, batch: { maxDelay: '10ms' } }), silentLogger());
    await host.start();
    await until(() => host.session?.connected === true, 10_000, 'host connected');
  }, 20_000);

  afterAll(async () => {
    tahu?.stop();
    await host?.stop();
    await proxy?.close();
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const birth = (): void => {
    births += 1;
    tahu.publishNodeBirth({ timestamp: Date.now(), metrics: [{ name: 'Node Control/Rebirth', type: 'Boolean', value: false }] });
    tahu.publishDeviceBirth('tank', { timestamp: Date.now(), metrics: [{ name: 'level', type: 'Float', value: 0 }, { name: 'setpoint', type: 'Int32', value: setpoint }] });
  };
  const data = (): void => {
    n += 1;
    tahu.publishDeviceData('tank', { timestamp: Date.now(), metrics: [{ name: 'level', type: 'Float', value: n }] });
  };
  const levels = async (): Promise<number[]> => {
    await host.ingest.flush();
    const store = new SqliteHistory(join(dir, 'h.db'));
    const lines: string[] = [];
    await exportHistory(store, { metric: 'level' }, 'jsonl', (s) => lines.push(s));
    await store.close();
    return lines.map((l) => (JSON.parse(l) as { value: number }).value);
  };

  it('tracks its births and data, stored as they come (no dedup key)', async () => {
    tahu = sparkplug.newClient({ serverUrl: broker.url, groupId: 'tahu', edgeNode: 'node-1', clientId: 'tahu-node-1', version: 'spBv1.0', publishDeath: true, username: '', password: '' });
    tahu.on('birth', birth);
    tahu.on('ncmd', (p) => {
      if (p.metrics.some((m) => m.name === 'Node Control/Rebirth' && m.value === true)) birth();
    });
    tahu.on('dcmd', (device, p) => {
      for (const m of p.metrics) if (m.name === 'setpoint') setpoint = Number(m.value);
      tahu.publishDeviceData(device, { timestamp: Date.now(), metrics: [{ name: 'setpoint', type: 'Int32', value: setpoint }] });
    });
    await until(() => host.lifecycle.get('tahu', 'node-1').devices.get('tank')?.online === true, 10_000, 'DBIRTH tracked');
    for (let i = 0; i < 5; i++) data();
    await until(() => host.ingest.stats.messages >= 7, 5000, 'data');
    // The birth's level (0, stamped with the payload's time: Tahu sends no metric timestamps)
    // is stored too (docs/host.md, "Births").
    expect(await levels()).toEqual([0, 1, 2, 3, 4, 5]);
    const s = host.lifecycle.get('tahu', 'node-1');
    expect(s).toMatchObject({ online: true, bdSeq: '0' });
    expect(s.counters).toMatchObject({ seqGaps: 0, rebirthsRequested: 0, dataBeforeBirth: 0 });
    expect(host.ingest.stats.unkeyed).toBeGreaterThanOrEqual(7);
  });

  it('a DDATA dropped between broker and host → one rebirth request → births → data', async () => {
    proxy.drop = { match: (t) => t.includes('/DDATA/node-1/tank'), budget: 1 };
    const birthsBefore = births;
    data(); // dropped
    data(); // seq gap seen here
    data();
    await until(() => births > birthsBefore, 10_000, 'the edge reborn on the host request');
    await until(() => host.lifecycle.get('tahu', 'node-1').devices.get('tank')?.online === true, 5000, 'DBIRTH again');
    data();
    const s = host.lifecycle.get('tahu', 'node-1');
    await until(() => s.lastData !== undefined && host.ingest.stats.messages >= 13, 5000, 'data after rebirth');
    expect(proxy.dropped).toHaveLength(1);
    expect(s.counters.seqGaps).toBe(1);
    expect(s.counters.rebirthsRequested).toBe(1);
    const stored = await levels();
    expect(stored.filter((v) => v !== 0)).toEqual([1, 2, 3, 4, 5, 7, 8, 9]);
    expect(stored.filter((v) => v === 0)).toHaveLength(births);
  });

  it('host write: DCMD to the device, echoed in DDATA', async () => {
    const cat = host.lifecycle.catalogue(host.lifecycle.get('tahu', 'node-1'));
    const r = await hostWrite(host.cfg, cat, { group: 'tahu', node: 'node-1', device: 'tank', metric: 'setpoint', text: '55' }, 10_000);
    expect(r.value).toBe(55);
    expect(setpoint).toBe(55);
    await expect(hostWrite(host.cfg, cat, { group: 'tahu', node: 'node-1', device: 'tank', metric: 'nope', text: '1' }, 1000)).rejects.toMatchObject({ code: 'FG_ERR_HOST_WRITE' });
  });

  it('its NDEATH (bdSeq of the birth) takes node and device offline', async () => {
    tahu.stop();
    await until(() => !host.lifecycle.get('tahu', 'node-1').online, 10_000, 'offline');
    expect(host.lifecycle.get('tahu', 'node-1').devices.get('tank')?.online).toBe(false);
    expect(host.lifecycle.get('tahu', 'node-1').counters.staleDeaths).toBe(0);
  });
});
