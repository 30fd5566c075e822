// Upgrade safety of the store: a file written by the first released schema (every owner at
// version 1, test/fixtures/store/v1.db) is migrated on start by the current code with nothing
// lost, and a file from a newer schema than this build knows is refused and left untouched.
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { builtinDrivers } from '../drivers/all.js';
import { parseConfigText } from '../src/config/load.js';
import { Gateway } from '../src/gateway.js';
import { silentLogger } from '../src/observe/logger.js';
import { SPARKPLUG_MIGRATIONS } from '../src/sparkplug/sparkplug-store.js';
import { BROKER_MIGRATIONS } from '../src/store/broker-persistence.js';
import { OUTBOX_MIGRATIONS, OUTBOX_OWNER } from '../src/store/sqlite-outbox.js';
import { AedesUpstream } from './helpers/aedes-upstream.js';
import { ROOT, runCli } from './helpers/cli.js';
import { freePort } from './helpers/ports.js';
import { until } from './helpers/until.js';
import { decodeIndependently } from './sparkplug/independent-decoder.js';
import { V1, writeV1Store } from './fixtures/store/v1-store.js';
import { useCleanups } from './helpers/cleanups.js';
import { siteYaml as buildSite, simulatedPump } from './helpers/site-yaml.js';

const FIXTURE = join(ROOT, 'test', 'fixtures', 'store', 'v1.db');
if (process.env.FG_WRITE_STORE_FIXTURE === '1') writeV1Store(FIXTURE);

/** What this build migrates a store to: every owner the gateway opens, at its latest version. */
const CURRENT: Record<string, number> = {
  [OUTBOX_OWNER]: OUTBOX_MIGRATIONS.length,
  [SPARKPLUG_MIGRATIONS.owner]: SPARKPLUG_MIGRATIONS.migrations.length,
  [BROKER_MIGRATIONS.owner]: BROKER_MIGRATIONS.migrations.length,
};

const cleanups = useCleanups();

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fg-upgrade-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function copyFixture(dir: string): string {
  const path = join(dir, 'fieldgate.db');
  copyFileSync(FIXTURE, path);
  return path;
}

/** Schema and every row of every table: what a store means, independent of page layout. */
function dump(path: string): Record<string, unknown[]> {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string; sql: string }>;
    const out: Record<string, unknown[]> = { '(schema)': db.prepare('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name').all() };
    for (const t of tables) out[t.name] = db.prepare(`SELECT * FROM "${t.name}" ORDER BY 1`).all();
    return out;
  } finally {
    db.close();
  }
}

function versions(path: string): Record<string, number> {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT owner, version FROM schema_versions').all() as Array<{ owner: string; version: number }>;
    return Object.fromEntries(rows.map((r) => [r.owner, r.version]));
  } finally {
    db.close();
  }
}

function siteYaml(dir: string, upstreamUrl: string, brokerPort: number): string {
  return buildSite({
    site: '{ group: plant, node: edge-1, nodeMetricsInterval: 1h }',
    store: `{ path: ${join(dir, 'fieldgate.db')}, maxAge: 3650d }`,
    broker: `{ listeners: [ { host: 127.0.0.1, port: ${brokerPort} } ] }`,
    upstream: `{ url: '${upstreamUrl}', protocolVersion: 4, reconnect: { min: 50ms, max: 200ms } }`,
    devices: simulatedPump('{ name: sp, type: int16, writable: true, signal: { kind: constant, value: 50 } }'),
  });
}

describe('a store written by the first released schema', () => {
  it('is the frozen fixture: a self-contained file that the v1 generator still reproduces (migration 1 was never edited)', () => {
    expect(existsSync(`${FIXTURE}-wal`), 'the fixture is checkpointed, with no -wal beside it').toBe(false);
    // Read through a copy: even a read-only open of a WAL file leaves -wal and -shm beside it.
    const dir = tempDir();
    const committed = copyFixture(dir);
    expect(versions(committed)).toEqual({ outbox: 1, sparkplug: 1, broker: 1 });
    const fresh = join(dir, 'fresh.db');
    writeV1Store(fresh);
    // If this fails, someone changed a released migration 1: stores in the field have the old
    // tables. Add a migration 2 instead, and leave migration 1 and the fixture alone.
    expect(dump(fresh)).toEqual(dump(committed));
  });

  it('is migrated on start by the gateway, keeps its epoch, records, high-water mark and broker state, then appends and drains', async () => {
    const dir = tempDir();
    const path = copyFixture(dir);
    const upstream = await AedesUpstream.started(cleanups);
    const brokerPort = await freePort();
    const config = parseConfigText(siteYaml(dir, upstream.url, brokerPort), join(dir, 'site.yaml'), builtinDrivers);
    const gateway = new Gateway({ config, drivers: builtinDrivers, logger: silentLogger() });
    let stopped = false;
    const stop = async (): Promise<void> => {
      if (!stopped) await gateway.stop();
      stopped = true;
    };
    cleanups.push(stop);
    await gateway.start();
    const store = gateway.upstreamPath!.store;

    // Every owner is now at the version this build knows.
    const after = Object.fromEntries((store.db.prepare('SELECT owner, version FROM schema_versions').all() as Array<{ owner: string; version: number }>).map((r) => [r.owner, r.version]));
    expect(after).toEqual(CURRENT);
    expect(store.epoch).toBe(V1.epoch);

    // The backlog drains: the six stored DDATA records in order with their old epoch and
    // sequences, flagged historical, then the forwarded record; the stored DBIRTH is covered by
    // the new births.
    const keyed = () => upstream.received.filter((r) => r.key?.epoch === V1.epoch);
    await until(() => upstream.received.some((r) => r.topic === V1.forwarded.topic), 10_000, 'the stored forwarded record');
    await until(() => keyed().some((r) => r.key!.seq > V1.lastSeq), 10_000, 'a record appended after the upgrade');
    const nbirth = decodeIndependently(upstream.received.find((r) => r.topic === 'spBv1.0/plant/NBIRTH/edge-1')!.payload);
    expect(Number(nbirth.metrics?.find((m) => m.name === 'bdSeq')?.longValue), 'bdSeq continues from the stored one').toBe(V1.bdSeq + 1);
    const dbirth = decodeIndependently(upstream.received.find((r) => r.topic === 'spBv1.0/plant/DBIRTH/edge-1/pump')!.payload);
    const countAlias = dbirth.metrics?.find((m) => m.name === 'count')?.alias;
    const old = keyed().filter((r) => r.key!.seq <= V1.lastSeq);
    expect(old.map((r) => r.key!.seq)).toEqual(V1.counts.map((_, i) => V1.firstCountSeq + i));
    const oldValues = old.map((r) => {
      const m = decodeIndependently(r.payload).metrics?.find((x) => x.alias === countAlias);
      return { value: Number(m?.longValue), historical: m?.isHistorical === true };
    });
    expect(oldValues).toEqual(V1.counts.map((value) => ({ value, historical: true })));
    const forwarded = upstream.received.find((r) => r.topic === V1.forwarded.topic)!;
    expect(forwarded.payload.toString()).toBe(V1.forwarded.payload);
    expect(forwarded.index).toBeGreaterThan(old[old.length - 1]!.index);

    // New records continue the sequence (no reuse below the stored last_seq) and are acknowledged.
    const fresh = keyed().filter((r) => r.key!.seq > V1.lastSeq);
    expect(Math.min(...fresh.map((r) => r.key!.seq))).toBeGreaterThan(V1.lastSeq);
    await until(() => store.outbox.stats().ackedThrough > V1.lastSeq, 10_000, 'the high-water mark past the stored records');
    const stats = store.outbox.stats();
    expect(stats.dropped).toEqual(V1.dropped);
    expect(stats.epoch).toBe(V1.epoch);

    // The local broker restored the persistent session (with its queued message) and the retained message.
    const hmi = mqtt.connect(`mqtt://127.0.0.1:${brokerPort}`, { clientId: V1.session.clientId, clean: false, protocolVersion: 4, reconnectPeriod: 0 });
    cleanups.push(() => void hmi.end(true));
    const got: Array<{ topic: string; payload: string }> = [];
    hmi.on('message', (topic, payload) => got.push({ topic, payload: payload.toString() }));
    const connack = await new Promise<{ sessionPresent: boolean }>((resolve, reject) => {
      hmi.once('connect', (p) => resolve(p as { sessionPresent: boolean }));
      hmi.once('error', reject);
    });
    expect(connack.sessionPresent).toBe(true);
    await until(() => got.some((m) => m.topic === V1.session.queued.topic), 5000, 'the message queued for hmi-1');
    expect(got.find((m) => m.topic === V1.session.queued.topic)?.payload).toBe(V1.session.queued.payload);
    await hmi.subscribeAsync(V1.retained.topic, { qos: 1 });
    await until(() => got.some((m) => m.topic === V1.retained.topic), 5000, 'the retained message');
    expect(got.find((m) => m.topic === V1.retained.topic)?.payload).toBe(V1.retained.payload);

    // The command journal row survived next to the new tables.
    const journal = store.db.prepare('SELECT source, device, metric, value, result FROM command_journal ORDER BY id LIMIT 1').get();
    expect(journal).toEqual(V1.journal);
    await stop();
  });
});

describe('a store written by a newer schema than this build knows', () => {
  for (const owner of Object.keys(CURRENT)) {
    it(`is refused when its ${owner} tables are ahead: exit 1, FG_ERR_STORE_MIGRATION, the file left as it was`, () => {
      const dir = tempDir();
      const path = copyFixture(dir);
      const db = new Database(path);
      db.prepare('UPDATE schema_versions SET version = ? WHERE owner = ?').run(CURRENT[owner]! + 1, owner);
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
      const before = dump(path);
      const site = join(dir, 'site.yaml');
      const yaml = `version: 1
site: { group: plant, node: edge-1 }
observe: { http: { enabled: false } }
store: { path: ${path} }
upstream: { url: 'mqtt://127.0.0.1:1' }
devices: []
`;
      writeFileSync(site, yaml);
      const r = runCli(['run', '--config', site]);
      expect(r.code).toBe(1);
      const fatal = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number; err?: { code?: string; message?: string } }).find((l) => l.level === 60);
      expect(fatal?.err?.code).toBe('FG_ERR_STORE_MIGRATION');
      expect(fatal?.err?.message).toContain(`${owner} tables are at version ${CURRENT[owner]! + 1}, this fieldgate knows only up to ${CURRENT[owner]}`);
      expect(dump(path)).toEqual(before);
    });
  }
});
