import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, STORE_FIXED_BYTES, type Store } from './open-store.js';
import { outboxContract } from '../../test/contracts/outbox-suite.js';

outboxContract('sqlite', (o) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-outbox-'));
  const path = join(dir, 'store.db');
  const open = (): Store =>
    openStore({
      path,
      maxBytes: (o.maxBytes ?? 1 << 30) + STORE_FIXED_BYTES,
      maxAgeMs: o.maxAgeMs ?? 86_400_000,
      onFull: o.onFull ?? 'drop-oldest',
      ...(o.now !== undefined ? { now: o.now } : {}),
    });
  let store = open();
  return {
    outbox: store.outbox,
    reopen: () => {
      store.close();
      store = open();
      return store.outbox;
    },
    cleanup: () => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteOutbox batched read', () => {
  let dir: string;
  let store: Store;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fg-outbox-read-'));
    store = openStore({ path: join(dir, 'store.db'), maxBytes: 1 << 30, maxAgeMs: 86_400_000, onFull: 'drop-oldest' });
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The same rows through better-sqlite3's own per-row read: what the batched read must equal. */
  function perRow(afterSeq: number, limit: number): unknown[] {
    const rows = store.db.prepare('SELECT seq, kind, topic, payload, qos, retain, created_at, bytes FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?').all(afterSeq, limit) as Array<Record<string, unknown>>;
    return rows.map((r) => ({ seq: r.seq, kind: r.kind, topic: r.topic, payload: r.payload, qos: r.qos, retain: r.retain === 1, createdAt: r.created_at, bytes: r.bytes }));
  }

  it('returns every payload byte for byte: all 256 byte values, NULs, invalid UTF-8, empty payloads, non-ASCII topics', () => {
    const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const payloads = [every, Buffer.alloc(0), Buffer.from([0]), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]), Buffer.alloc(0), every.subarray(128), Buffer.alloc(5000, 0x80)];
    store.outbox.append(payloads.map((payload, i) => ({ kind: i % 2 === 0 ? 'mqtt' : 'sparkplug', topic: `t/ü/"quoted"\\/${i}`, payload, qos: (i % 3) as 0 | 1 | 2, retain: i === 3, createdAt: 1000 + i })));
    const got = store.outbox.read(0, 100);
    expect(got.map((r) => Buffer.from(r.payload))).toEqual(payloads);
    expect(got).toEqual(perRow(0, 100));
  });

  it('reads across gaps left by acknowledged ranges, and only empty payloads', () => {
    store.outbox.append(Array.from({ length: 50 }, (_, i) => ({ kind: 'mqtt', topic: `t/${i}`, payload: Buffer.alloc(0), qos: 1 as const })));
    store.outbox.ack([[3, 9], [20, 20], [30, 44]]);
    expect(store.outbox.read(0, 100)).toEqual(perRow(0, 100));
    expect(store.outbox.read(10, 5)).toEqual(perRow(10, 5));
    expect(store.outbox.read(50, 5)).toEqual([]);
  });

  it('jumps over a gap wider than the read and returns nothing only at the end', () => {
    store.outbox.append(Array.from({ length: 3000 }, (_, i) => ({ kind: 'mqtt', topic: `t/${i}`, payload: Buffer.from([i & 0xff]), qos: 1 as const })));
    store.outbox.ack([[5, 2500]]);
    const got = store.outbox.read(3, 100);
    expect(got.map((r) => r.seq)).toEqual([4, ...Array.from({ length: 99 }, (_, i) => 2501 + i)].slice(0, got.length));
    expect(got.length).toBeGreaterThan(0);
    expect(store.outbox.read(4, 100)).toEqual(perRow(4, 100));
    expect(store.outbox.read(2999, 100).map((r) => r.seq)).toEqual([3000]);
    expect(store.outbox.read(3000, 100)).toEqual([]);
  });
});
