// Issue 19, "Both corruption kinds": a store damaged in a way quick_check does not see (an
// index that no longer matches its table, hitting bdSeq or the epoch), an empty file and a
// path SQLite cannot open. The built CLI runs on each: the gateway is running within 8 s, the
// bad file is moved aside with a log line naming FG_ERR_STORE_CORRUPT, a new epoch starts, and
// the upstream gets its births. Real files, damaged byte by byte.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SPARKPLUG_MIGRATIONS, SqliteBdSeqStore } from '../src/sparkplug/sparkplug-store.js';
import { BROKER_MIGRATIONS } from '../src/store/broker-persistence.js';
import { openStore } from '../src/store/open-store.js';
import { AedesUpstream } from './helpers/aedes-upstream.js';
import { startCli, type RunningCli } from './helpers/cli.js';
import { until } from './helpers/until.js';
import { useCleanups } from './helpers/cleanups.js';
import { siteYaml, simulatedPump } from './helpers/site-yaml.js';

const cleanups = useCleanups();

/** A store as the gateway leaves it: bdSeq saved, checkpointed into the main file. */
function storeWithBdSeq(path: string): string {
  const s = openStore({ path, maxBytes: 1 << 30, maxAgeMs: 86_400_000, onFull: 'drop-oldest', extraMigrations: [SPARKPLUG_MIGRATIONS, BROKER_MIGRATIONS] });
  new SqliteBdSeqStore(s.db, 'bdSeq').save(41);
  new SqliteBdSeqStore(s.db, 'bdSeq.local').save(7);
  const epoch = s.epoch;
  s.close();
  return epoch;
}

/**
 * Points the index entry for `key` (rowid 1, stored as serial type 9 = the constant 1) at rowid
 * 0, which does not exist: the b-tree stays well formed, so quick_check says ok, but every
 * lookup of `key` through the index fails with SQLITE_CORRUPT.
 */
function breakIndexEntry(path: string, key: string): void {
  const buf = readFileSync(path);
  const needle = Buffer.concat([Buffer.from([0x03, 13 + 2 * key.length, 0x09]), Buffer.from(key)]);
  const at = buf.indexOf(needle);
  expect(at, `index entry for ${key}`).toBeGreaterThan(0);
  buf[at + 2] = 0x08;
  writeFileSync(path, buf);
  const db = new Database(path);
  try {
    expect(db.pragma('quick_check', { simple: true })).toBe('ok');
  } finally {
    db.close();
  }
}

async function run(dir: string, upstreamUrl: string): Promise<RunningCli> {
  const site = join(dir, 'site.yaml');
  writeFileSync(
    site,
    siteYaml({
      store: `{ path: ${join(dir, 'data', 'fg.db')} }`,
      upstream: `{ url: '${upstreamUrl}', protocolVersion: 4, reconnect: { min: 50ms, max: 200ms } }`,
      devices: simulatedPump(),
    }),
  );
  const cli = startCli(['run', '--config', site, '--log-level', 'info'], { cwd: dir });
  cleanups.push(async () => {
    cli.child.kill('SIGTERM');
    await cli.exited;
  });
  return cli;
}

const cases: Array<{ name: string; damage: (path: string) => void }> = [
  { name: 'an index that no longer matches its table, hitting bdSeq', damage: (p) => breakIndexEntry(p, 'bdSeq') },
  { name: 'an index that no longer matches its table, hitting the epoch', damage: (p) => breakIndexEntry(p, 'epoch') },
  { name: 'a zero-length file', damage: (p) => writeFileSync(p, '') },
  {
    name: 'a path SQLite cannot open (a directory)',
    damage: (p) => {
      rmSync(p);
      mkdirSync(p);
    },
  },
];

describe('a damaged store at start', () => {
  for (const c of cases) {
    it(`${c.name}: running within 8 s, file moved aside with a log line, new epoch`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'fg-corrupt-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const upstream = await AedesUpstream.start();
      cleanups.push(() => upstream.stop());
      const path = join(dir, 'data', 'fg.db');
      mkdirSync(join(dir, 'data'));
      const oldEpoch = storeWithBdSeq(path);
      c.damage(path);
      const started = Date.now();
      const cli = await run(dir, upstream.url);
      const exitedEarly = cli.exited.then((x) => {
        throw new Error(`gateway exited ${x.code}:\n${cli.lines.slice(-10).join('\n')}`);
      });
      const moved = await Promise.race([cli.waitFor((l) => l.includes('FG_ERR_STORE_CORRUPT') && l.includes('moved aside'), 8_000), exitedEarly]);
      await Promise.race([cli.waitFor((l) => l.includes('"gateway started"'), 8_000), exitedEarly]);
      expect(Date.now() - started).toBeLessThan(8_000);
      expect(JSON.parse(moved)).toMatchObject({ level: 50, code: 'FG_ERR_STORE_CORRUPT', path });
      expect(readdirSync(join(dir, 'data')).some((f) => f.startsWith('fg.db.corrupt-'))).toBe(true);
      // A new epoch, and the upstream session comes up (NBIRTH) on the fresh store.
      await until(() => upstream.received.some((r) => r.topic === 'spBv1.0/plant/NBIRTH/edge-1'), 8_000, 'NBIRTH upstream');
      await until(() => upstream.received.some((r) => r.key !== undefined), 8_000, 'a keyed record upstream');
      const key = upstream.received.find((r) => r.key !== undefined)!.key!;
      expect(key.epoch).not.toBe(oldEpoch);
      await Promise.race([new Promise((r) => setTimeout(r, 300)), exitedEarly]);
    }, 30_000);
  }
});
