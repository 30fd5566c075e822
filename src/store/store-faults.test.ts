// Issue 19 in the default suite, with SQLite's page cap standing in for a full disk
// (max_page_count: SQLITE_FULL exactly as ENOSPC gives it; the tmpfs variant is
// test/store-faults.interop.test.ts). Every write path answers the same way: no throw, an
// FG_ERR_STORE_* code in health, kept writes retried, healthy again once space returns.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SPARKPLUG_MIGRATIONS, SqliteBdSeqStore, SqliteCommandJournal } from '../sparkplug/sparkplug-store.js';
import { BROKER_MIGRATIONS, SqliteBrokerPersistence } from './broker-persistence.js';
import { openStore, type Store } from './open-store.js';
import { rec } from '../../test/contracts/outbox-suite.js';

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function fullStore(): Store {
  const dir = mkdtempSync(join(tmpdir(), 'fg-faults-'));
  dirs.push(dir);
  const store = openStore({ path: join(dir, 'fg.db'), maxBytes: 1 << 30, maxAgeMs: 86_400_000, onFull: 'drop-oldest', extraMigrations: [SPARKPLUG_MIGRATIONS, BROKER_MIGRATIONS] });
  stores.push(store);
  const pages = store.db.pragma('page_count', { simple: true }) as number;
  store.db.pragma(`max_page_count = ${pages + 2}`);
  // Fill what is left: the next page-allocating write of any part fails with SQLITE_FULL.
  for (let i = 0; i < 100; i++) {
    try {
      store.outbox.append([rec(i, 2000)]);
    } catch {
      break;
    }
  }
  return store;
}

describe('store faults (page cap)', () => {
  it('bdSeq, sessions, retained and journal writes on a full file: no throw, degraded, retried, healthy again', async () => {
    const store = fullStore();
    const bdSeq = new SqliteBdSeqStore(store.db, 'bdSeq', store.faults);
    const broker = new SqliteBrokerPersistence(store.db, { faults: store.faults });
    const journal = new SqliteCommandJournal(store.db, { faults: store.faults, maxBytes: 1 << 20 });
    const big = Buffer.alloc(20_000, 1);
    expect(() => bdSeq.save(3)).not.toThrow();
    expect(() => broker.saveSession({ clientId: 'hmi', expiryInterval: 60, subscriptions: [], pending: [] } as never)).not.toThrow();
    expect(() => broker.putRetained({ topic: '$SYS/broker/uptime', payload: big, qos: 0, retain: true })).not.toThrow();
    journal.received({ source: 'DCMD', device: 'pump', metric: 'sp', value: 'x'.repeat(200), receivedAt: 1 });
    for (let i = 0; i < 200; i++) journal.received({ source: 'DCMD', device: 'pump', metric: 'sp', value: 'y'.repeat(200), receivedAt: 1 });
    expect(() => journal.flush()).not.toThrow();
    // bdSeq goes on in memory: the next CONNECT must not reuse 3.
    expect(bdSeq.load()).toBe(3);
    const h = store.faults.health();
    expect(h.status).toBe('degraded');
    expect(Object.values(h.faults ?? {}).map((f) => f.code)).toContain('FG_ERR_STORE_DISK_FULL');
    expect(Object.keys(h.faults ?? {})).toEqual(expect.arrayContaining(['broker-retained', 'journal']));
    // Space returns: kept writes go through within the retry interval, health is ok again.
    store.db.pragma('max_page_count = 1000000');
    const t0 = Date.now();
    while (store.faults.health().status !== 'ok' && Date.now() - t0 < 5_000) await new Promise((r) => setTimeout(r, 50));
    expect(store.faults.health().status).toBe('ok');
    expect(new SqliteBdSeqStore(store.db, 'bdSeq').load()).toBe(3);
    expect(broker.listRetained().map((m) => m.topic)).toContain('$SYS/broker/uptime');
    expect(store.outbox.append([rec(1, 100)]).seqs).toHaveLength(1);
  });
});
