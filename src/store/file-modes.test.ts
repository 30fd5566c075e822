// Issue 19: outside systemd (no UMask=0077) the store and its -wal/-shm came out 0644 and the
// data directory 0755; they hold retained messages, sessions and the command journal.
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from './open-store.js';
import { rec } from '../../test/contracts/outbox-suite.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const mode = (p: string): number => statSync(p).mode & 0o777;

describe('store file modes', () => {
  it('creates the data directory 0700 and the store, -wal and -shm 0600 whatever the umask', () => {
    const root = mkdtempSync(join(tmpdir(), 'fg-modes-'));
    dirs.push(root);
    const path = join(root, 'data', 'fg.db');
    const old = process.umask(0o022);
    try {
      const store = openStore({ path, maxBytes: 1 << 30, maxAgeMs: 86_400_000, onFull: 'drop-oldest' });
      store.outbox.append([rec(1, 100)]);
      expect(mode(join(root, 'data'))).toBe(0o700);
      for (const f of [path, `${path}-wal`, `${path}-shm`]) expect(mode(f), f).toBe(0o600);
      store.close();
    } finally {
      process.umask(old);
    }
  });

  it('tightens an existing 0644 store file', () => {
    const root = mkdtempSync(join(tmpdir(), 'fg-modes-'));
    dirs.push(root);
    const path = join(root, 'fg.db');
    openStore({ path, maxBytes: 1 << 30, maxAgeMs: 86_400_000, onFull: 'drop-oldest' }).close();
    chmodSync(path, 0o644);
    const store = openStore({ path, maxBytes: 1 << 30, maxAgeMs: 86_400_000, onFull: 'drop-oldest' });
    expect(mode(path)).toBe(0o600);
    store.close();
  });
});
