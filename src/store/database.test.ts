import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger } from '../observe/logger.js';
import { openDatabase, schemaVersion } from './database.js';
import { openStore, STORE_FIXED_BYTES } from './open-store.js';
import { rec } from '../../test/contracts/outbox-suite.js';
import { recordBytes } from './outbox.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fg-db-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function capture(): { lines: Array<Record<string, unknown>>; logger: ReturnType<typeof createLogger> } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, logger: createLogger({ destination, level: 'info' }) };
}

const limits = { maxBytes: 1 << 30, maxAgeMs: 86_400_000, onFull: 'drop-oldest' as const };

describe('openDatabase', () => {
  it('uses WAL with synchronous FULL by default and NORMAL on request', () => {
    const a = openDatabase({ path: join(dir, 'a.db'), migrations: [] });
    expect(a.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(a.db.pragma('synchronous', { simple: true })).toBe(2);
    a.db.close();
    const b = openDatabase({ path: join(dir, 'b.db'), migrations: [], synchronous: 'normal' });
    expect(b.db.pragma('synchronous', { simple: true })).toBe(1);
    b.db.close();
  });

  it('keeps the epoch across reopens of a healthy file', () => {
    const path = join(dir, 's.db');
    const a = openDatabase({ path, migrations: [] });
    a.db.close();
    const b = openDatabase({ path, migrations: [] });
    expect(b.epoch).toBe(a.epoch);
    expect(b.recovered).toBeUndefined();
    b.db.close();
  });

  it('applies migrations per owner, in order, once; a later owner is added without touching the first', () => {
    const path = join(dir, 'm.db');
    const applied: string[] = [];
    const outbox = {
      owner: 'outbox',
      migrations: [
        { version: 1, description: 'one', up: (db: import('./database.js').SqliteDatabase) => { applied.push('o1'); db.exec('CREATE TABLE o (x INTEGER)'); } },
        { version: 2, description: 'two', up: (db: import('./database.js').SqliteDatabase) => { applied.push('o2'); db.exec('ALTER TABLE o ADD COLUMN y INTEGER'); } },
      ],
    };
    const a = openDatabase({ path, migrations: [outbox] });
    a.db.close();
    const broker = { owner: 'broker', migrations: [{ version: 1, description: 'sessions', up: (db: import('./database.js').SqliteDatabase) => { applied.push('b1'); db.exec('CREATE TABLE s (id TEXT)'); } }] };
    const b = openDatabase({ path, migrations: [outbox, broker] });
    expect(applied).toEqual(['o1', 'o2', 'b1']);
    expect(schemaVersion(b.db, 'outbox')).toBe(2);
    expect(schemaVersion(b.db, 'broker')).toBe(1);
    b.db.close();
    // A file from a newer fieldgate is refused, not downgraded.
    expect(() => openDatabase({ path, migrations: [{ owner: 'outbox', migrations: outbox.migrations.slice(0, 1) }] })).toThrow(
      expect.objectContaining({ code: 'FG_ERR_STORE_MIGRATION', message: expect.stringMatching(/version 2.*only up to 1/) }),
    );
  });

  it('refuses a file from a newer fieldgate before migrating any owner, and says what to do', () => {
    const path = join(dir, 'n.db');
    type Db = import('./database.js').SqliteDatabase;
    const one = { version: 1, description: 'one', up: (db: Db) => db.exec('CREATE TABLE a (x INTEGER)') };
    const two = { version: 2, description: 'two', up: (db: Db) => db.exec('ALTER TABLE a ADD COLUMN y INTEGER') };
    const b1 = { version: 1, description: 'b one', up: (db: Db) => db.exec('CREATE TABLE b (x INTEGER)') };
    const b2 = { version: 2, description: 'b two', up: (db: Db) => db.exec('CREATE TABLE b2 (x INTEGER)') };
    // Written by a "newer" build: a at 1, b at 2.
    openDatabase({ path, migrations: [{ owner: 'a', migrations: [one] }, { owner: 'b', migrations: [b1, b2] }] }).db.close();
    // An "older" build that knows a up to 2 but b only up to 1: a must not be migrated on the way.
    expect(() => openDatabase({ path, migrations: [{ owner: 'a', migrations: [one, two] }, { owner: 'b', migrations: [b1] }] })).toThrow(
      expect.objectContaining({
        code: 'FG_ERR_STORE_MIGRATION',
        message: expect.stringMatching(new RegExp(`store ${path} was written by a newer fieldgate \\(b tables are at version 2, this fieldgate knows only up to 1\\).*restore a backup`)),
      }),
    );
    const after = openDatabase({ path, migrations: [] });
    expect(schemaVersion(after.db, 'a')).toBe(1);
    expect(after.db.prepare("SELECT COUNT(*) AS n FROM pragma_table_info('a') WHERE name = 'y'").get()).toEqual({ n: 0 });
    after.db.close();
  });

  it('rolls back a failing migration and names it', () => {
    const path = join(dir, 'f.db');
    const bad = { owner: 'x', migrations: [{ version: 1, description: 'broken', up: (db: import('./database.js').SqliteDatabase) => { db.exec('CREATE TABLE ok (a)'); db.exec('NOT SQL'); } }] };
    expect(() => openDatabase({ path, migrations: [bad] })).toThrow(expect.objectContaining({ code: 'FG_ERR_STORE_MIGRATION', message: expect.stringContaining('x migration 1 (broken)') }));
    const again = openDatabase({ path, migrations: [] });
    expect(again.db.prepare("SELECT name FROM sqlite_master WHERE name = 'ok'").get()).toBeUndefined();
    again.db.close();
  });
});

describe('corrupt store file', () => {
  it('moves a garbage file aside, logs loudly, and starts empty in a new epoch', () => {
    const path = join(dir, 'store.db');
    const first = openStore({ path, ...limits });
    first.outbox.append([rec(1), rec(2)]);
    const oldEpoch = first.epoch;
    first.close();
    writeFileSync(path, Buffer.alloc(8192, 0x5a));
    const { lines, logger } = capture();
    const store = openStore({ path, ...limits, logger, now: () => 1234 });
    expect(store.recovered?.movedTo).toBe(`${path}.corrupt-1234`);
    expect(existsSync(`${path}.corrupt-1234`)).toBe(true);
    expect(store.epoch).not.toBe(oldEpoch);
    expect(store.outbox.stats()).toMatchObject({ depth: 0, lastSeq: 0 });
    expect(store.outbox.append([rec(3)]).seqs).toEqual([1]);
    const loud = lines.find((l) => l.code === 'FG_ERR_STORE_CORRUPT');
    expect(loud).toMatchObject({ level: 50, path, movedTo: `${path}.corrupt-1234` });
    store.close();
  });

  it('detects a damaged b-tree page inside a valid header with the integrity check', () => {
    const path = join(dir, 'store.db');
    const first = openStore({ path, ...limits, synchronous: 'full' });
    for (let i = 0; i < 50; i++) first.outbox.append(Array.from({ length: 20 }, (_, j) => rec(i * 20 + j, 200)));
    first.db.pragma('wal_checkpoint(TRUNCATE)');
    first.close();
    const size = statSync(path).size;
    expect(size).toBeGreaterThan(8 * 4096);
    // Scribble over page 3 onwards (b-tree pages of the outbox table), keep the 100-byte header.
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(4096 * 4, 0xff), 0, 4096 * 4, 4096 * 2);
    closeSync(fd);
    const store = openStore({ path, ...limits });
    expect(store.recovered).toBeDefined();
    expect(store.outbox.stats().depth).toBe(0);
    expect(readdirSync(dir).some((f) => f.startsWith('store.db.corrupt-'))).toBe(true);
    store.close();
  });
});

describe('disk full (store size limit via max_page_count)', () => {
  it('refuses the append with a clear error, loses no accepted record, and recovers when space returns', () => {
    const path = join(dir, 'full.db');
    const store = openStore({ path, ...limits, maxPageCount: 40 });
    const accepted: number[] = [];
    let error: unknown;
    for (let i = 0; i < 1000 && error === undefined; i++) {
      try {
        const { seqs } = store.outbox.append(Array.from({ length: 10 }, (_, j) => rec(i * 10 + j, 500)));
        accepted.push(...(seqs.filter((s) => s !== null) as number[]));
      } catch (e) {
        error = e;
      }
    }
    expect(error).toMatchObject({ code: 'FG_ERR_STORE_DISK_FULL', message: expect.stringContaining('nothing was accepted') });
    expect(accepted.length).toBeGreaterThan(50);
    // The failed group left memory and file in agreement: same depth, next sequence follows on.
    expect(store.outbox.stats()).toMatchObject({ depth: accepted.length, lastSeq: accepted.length });
    const group = Array.from({ length: 10 }, (_, j) => rec(j, 500));
    expect(() => store.outbox.append(group)).toThrow(expect.objectContaining({ code: 'FG_ERR_STORE_DISK_FULL' }));
    store.db.pragma('max_page_count = 100000');
    expect(store.outbox.append([rec(0, 500)]).seqs).toEqual([accepted.length + 1]);
    store.close();
    const again = openStore({ path, ...limits });
    expect(again.outbox.read(0, 100000).map((r) => r.seq)).toEqual([...accepted, accepted.length + 1]);
    again.close();
  });
});

describe('budget against the real file', () => {
  it('keeps the main file within maxBytes under drop-oldest through a long outage', () => {
    const path = join(dir, 'budget.db');
    const maxBytes = 256 * 1024;
    const store = openStore({ path, maxBytes, maxAgeMs: 86_400_000, onFull: 'drop-oldest', synchronous: 'normal' });
    let appended = 0;
    for (let i = 0; i < 200; i++) {
      const batch = Array.from({ length: 50 }, (_, j) => rec(i * 50 + j, 20 + ((i * 50 + j) % 200)));
      store.outbox.append(batch);
      appended += batch.length;
    }
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    const st = store.outbox.stats();
    const held = store.outbox.read(0, 1e6);
    expect(st.bytes).toBeLessThanOrEqual(maxBytes - STORE_FIXED_BYTES);
    expect(st.bytes).toBe(held.reduce((a, r) => a + r.bytes, 0));
    // Every missing sequence is counted as a drop, and nothing else is missing.
    expect(st.dropped.budget).toBe(appended - held.length);
    expect(held[0]?.seq).toBe(st.dropped.budget + 1);
    expect(statSync(path).size).toBeLessThanOrEqual(maxBytes);
    expect(recordBytes(rec(0, 0))).toBeGreaterThan(0);
    store.close();
  });
});

describe('recordBytes against the real file', () => {
  it('charges at least the file space a record takes, and not wildly more', () => {
    for (const size of [0, 20, 100, 400, 1000, 2500, 5000]) {
      const path = join(dir, `ovh-${size}.db`);
      const store = openStore({ path, maxBytes: 1 << 30, maxAgeMs: 86_400_000, onFull: 'drop-oldest', synchronous: 'normal' });
      const n = size > 1000 ? 300 : 3000;
      for (let i = 0; i < n; i += 100) store.outbox.append(Array.from({ length: 100 }, (_, j) => rec(i + j, size)));
      store.db.pragma('wal_checkpoint(TRUNCATE)');
      const pages = (store.db.pragma('page_count', { simple: true }) as number) - (store.db.pragma('freelist_count', { simple: true }) as number);
      const fileBytes = pages * 4096;
      const accounted = store.outbox.stats().bytes;
      store.close();
      expect(fileBytes, `payload ${size}`).toBeLessThanOrEqual(accounted + STORE_FIXED_BYTES);
      expect(accounted, `payload ${size}`).toBeLessThanOrEqual(fileBytes * 1.6);
    }
  });
});
