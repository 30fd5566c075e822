// `fieldgate backup` against a store that is being written: the copy is consistent, holds every
// record accepted before the backup began, and a restore of it loses none of them and starts a
// new dedup epoch (so new records cannot collide with keys the lost store already sent).
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { AppendQueue, openStore, type Store } from '../src/store/index.js';
import { CLI, runCli } from './helpers/cli.js';
import { useCleanups } from './helpers/cleanups.js';

const cleanups = useCleanups();

const limits = { maxBytes: 1 << 30, maxAgeMs: 365 * 86_400_000, onFull: 'drop-oldest' as const };

function payloadOf(i: number): Buffer {
  return Buffer.from(`value-${i}-`.padEnd(120, 'x'));
}

function runCliAsync(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('fieldgate backup', () => {
  it('copies a store while records are appended; restoring it keeps every record accepted before, in a new epoch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-backup-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'fieldgate.db');
    const site = join(dir, 'site.yaml');
    writeFileSync(site, `version: 1\nsite: { group: g, node: n }\nstore: { path: ${path} }\ndevices: []\n`);

    let store: Store = openStore({ path, ...limits });
    cleanups.push(() => store.close());
    // Enough data that the copy takes a while (tens of thousands of rows, a few MiB).
    const seed = 40_000;
    for (let i = 1; i <= seed; i += 1000) store.outbox.append(Array.from({ length: 1000 }, (_, k) => ({ kind: 'mqtt', topic: 't', payload: payloadOf(i + k), qos: 1 as const })));
    store.outbox.ackThrough(1000); // an advanced high-water mark, as in a gateway that has been draining
    // Then records that are only in the WAL so far: a copy of the main file alone would miss them.
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    for (let i = seed + 1; i <= seed + 2000; i += 1000) store.outbox.append(Array.from({ length: 1000 }, (_, k) => ({ kind: 'mqtt', topic: 't', payload: payloadOf(i + k), qos: 1 as const })));
    const epoch = store.epoch;

    // The gateway's producer: a group of records every millisecond, until told to stop.
    const queue = new AppendQueue(store.outbox);
    const accepted: Array<{ seq: number; i: number; at: number }> = [];
    let n = seed + 2000;
    let producing = true;
    const producer = (async () => {
      while (producing) {
        const batch = Array.from({ length: 20 }, () => ++n);
        const seqs = await Promise.all(batch.map((i) => queue.enqueue({ kind: 'mqtt', topic: 't', payload: payloadOf(i), qos: 1 })));
        const at = Date.now();
        seqs.forEach((seq, k) => accepted.push({ seq: seq!, i: batch[k]!, at }));
        await new Promise((r) => setTimeout(r, 1));
      }
    })();

    const dest = join(dir, 'backup', 'fieldgate-backup.db');
    await new Promise((r) => setTimeout(r, 50));
    const startedAt = Date.now();
    const acceptedBefore = store.outbox.stats().lastSeq;
    const r = await runCliAsync(['backup', '--config', site, dest]);
    const endedAt = Date.now();
    producing = false;
    await producer;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const during = accepted.filter((a) => a.at > startedAt && a.at < endedAt).length;
    expect(during, 'the gateway kept appending while the backup ran').toBeGreaterThan(0);

    const summary = JSON.parse(r.stdout) as { epoch: string; records: number; lastSeq: number; ackedThrough: number; bytes: number };
    expect(summary.epoch).toBe(epoch);
    expect(summary.ackedThrough).toBe(1000);
    expect(summary.lastSeq).toBeGreaterThanOrEqual(acceptedBefore);
    expect(summary.records).toBe(summary.lastSeq - 1000);
    expect(existsSync(`${dest}-wal`)).toBe(false);
    expect(existsSync(`${dest}.partial`)).toBe(false);

    // Restore: the gateway stops, the copy replaces the file (and its -wal/-shm go), it starts.
    const liveLastSeq = store.outbox.stats().lastSeq;
    store.close();
    for (const s of ['', '-wal', '-shm']) rmSync(path + s, { force: true });
    copyFileSync(dest, path);
    store = openStore({ path, ...limits });
    const stats = store.outbox.stats();
    expect(stats.epoch, 'a restored store starts a new epoch').not.toBe(epoch);
    expect(stats.lastSeq).toBe(summary.lastSeq);
    expect(stats.ackedThrough).toBe(1000);
    // Every record accepted before the backup began is there, once, in order, with its payload.
    const held = store.outbox.read(0, 1_000_000);
    expect(held.map((h) => h.seq)).toEqual(Array.from({ length: summary.lastSeq - 1000 }, (_, k) => 1001 + k));
    for (const h of held) expect(h.payload.equals(payloadOf(h.seq))).toBe(true);
    expect(summary.lastSeq).toBeGreaterThanOrEqual(acceptedBefore);
    // New records continue after the copy's last sequence, under the new epoch.
    expect(store.outbox.append([{ kind: 'mqtt', topic: 't', payload: Buffer.from('after'), qos: 1 }]).seqs).toEqual([summary.lastSeq + 1]);
    expect(summary.lastSeq).toBeLessThanOrEqual(liveLastSeq);
    // Opened again, it keeps the new epoch: the marker was consumed.
    const restoredEpoch = store.epoch;
    store.close();
    store = openStore({ path, ...limits });
    expect(store.epoch).toBe(restoredEpoch);
  });

  it('never overwrites, and says why', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-backup-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'fieldgate.db');
    const site = join(dir, 'site.yaml');
    writeFileSync(site, `version: 1\nsite: { group: g, node: n }\nstore: { path: ${path} }\ndevices: []\n`);
    openStore({ path, ...limits }).close();
    const dest = join(dir, 'b.db');
    writeFileSync(dest, 'keep me');
    const r = runCli(['backup', '--config', site, dest]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('exists');
    const again = runCli(['backup', '--config', site]);
    expect(again.code).toBe(2);
    // The file is still a plain file, not replaced by a database.
    expect(() => new Database(dest, { readonly: true }).prepare('SELECT 1 FROM sqlite_master').get()).toThrow();
  });
});
