// Done-when "Disk full" on a real full file system: a 1 MiB tmpfs (needs root, as in the CI
// container). SQLite meets ENOSPC; the store refuses with a clear error, nothing accepted is
// lost, and appends succeed again once the tmpfs is grown (`mount -o remount,size=`).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/open-store.js';
import { rec } from './contracts/outbox-suite.js';

let mnt: string;

beforeAll(() => {
  mnt = mkdtempSync(join(tmpdir(), 'fg-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]);
});

afterAll(() => {
  try {
    execFileSync('umount', [mnt]);
  } finally {
    rmSync(mnt, { recursive: true, force: true });
  }
});

describe('disk full on a tmpfs', () => {
  it('refuses with a clear error, loses nothing accepted, recovers when space returns', () => {
    const path = join(mnt, 'store.db');
    const store = openStore({ path, maxBytes: 1 << 30, maxAgeMs: 86_400_000, onFull: 'drop-oldest' });
    const accepted: number[] = [];
    let error: unknown;
    for (let i = 0; i < 10_000 && error === undefined; i++) {
      try {
        const { seqs } = store.outbox.append(Array.from({ length: 10 }, (_, j) => rec(i * 10 + j, 300)));
        accepted.push(...(seqs as number[]));
      } catch (e) {
        error = e;
      }
    }
    // ENOSPC reaches SQLite as SQLITE_FULL.
    expect(error).toMatchObject({ code: 'FG_ERR_STORE_DISK_FULL', message: expect.stringContaining('nothing was accepted') });
    expect(accepted.length).toBeGreaterThan(100);
    // Still full: refused again, no crash, state unchanged.
    expect(() => store.outbox.append(Array.from({ length: 50 }, (_, j) => rec(j, 300)))).toThrow();
    expect(store.outbox.stats().lastSeq).toBe(accepted.length);
    execFileSync('mount', ['-o', 'remount,size=8m', mnt]);
    const { seqs } = store.outbox.append(Array.from({ length: 50 }, (_, j) => rec(j, 300)));
    expect(seqs[0]).toBe(accepted.length + 1);
    store.close();
    const again = openStore({ path, maxBytes: 1 << 30, maxAgeMs: 86_400_000, onFull: 'drop-oldest' });
    const held = again.outbox.read(0, 1e6).map((r) => r.seq);
    again.close();
    expect(held.slice(0, accepted.length)).toEqual(accepted);
    expect(held).toHaveLength(accepted.length + 50);
  });
});
