// Durable appends/s of the outbox beside raw better-sqlite3 batched inserts, in the same run,
// same file system, same pragmas (WAL, synchronous FULL unless FG_SYNC=normal).
// Run pinned to one core:  npx tsc -p tsconfig.json && taskset -c 0 node bench/outbox-append.mjs
// Target (issue 4): the outbox at least half the raw insert rate.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openStore } from '../dist/src/store/open-store.js';
import { AppendQueue } from '../dist/src/store/append-queue.js';

const N = Number(process.env.FG_N ?? 200_000);
const SYNC = process.env.FG_SYNC ?? 'full';
const PAYLOAD = Buffer.alloc(100, 7);
const TOPIC = 'spBv1.0/plant1/DDATA/press-4/plc';
const dir = mkdtempSync(join(tmpdir(), 'fg-bench-append-'));

function raw(batch) {
  const db = new Database(join(dir, `raw-${batch}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${SYNC.toUpperCase()}`);
  db.exec('CREATE TABLE t (seq INTEGER PRIMARY KEY, kind TEXT, topic TEXT, payload BLOB, qos INTEGER, retain INTEGER, created_at INTEGER, bytes INTEGER)');
  const ins = db.prepare('INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  let seq = 0;
  const tx = db.transaction((n) => {
    for (let i = 0; i < n; i++) ins.run(++seq, 'mqtt', TOPIC, PAYLOAD, 1, 0, Date.now(), 180);
  });
  const t0 = process.hrtime.bigint();
  for (let done = 0; done < N; done += batch) tx(Math.min(batch, N - done));
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  db.close();
  return N / s;
}

async function outbox(batch) {
  const store = openStore({ path: join(dir, `outbox-${batch}.db`), maxBytes: 8 * 1024 ** 3, maxAgeMs: 7 * 86_400_000, onFull: 'drop-oldest', synchronous: SYNC });
  const queue = new AppendQueue(store.outbox, { maxBatch: batch });
  const t0 = process.hrtime.bigint();
  // Producers enqueue a group's worth per turn and wait for durability, as the runtime does.
  for (let done = 0; done < N; done += batch) {
    const n = Math.min(batch, N - done);
    const ps = new Array(n);
    for (let i = 0; i < n; i++) ps[i] = queue.enqueue({ kind: 'mqtt', topic: TOPIC, payload: PAYLOAD, qos: 1 });
    await Promise.all(ps);
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (store.outbox.stats().depth !== N) throw new Error('lost appends');
  store.close();
  return N / s;
}

const rows = [];
for (const batch of [100, 1000]) {
  const r = raw(batch);
  const o = await outbox(batch);
  rows.push({ batch, raw: Math.round(r), outbox: Math.round(o), ratio: +(o / r).toFixed(2) });
}
rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify({ bench: 'outbox-append', records: N, payloadBytes: PAYLOAD.length, synchronous: SYNC, rows }, null, 1));
