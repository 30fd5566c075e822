import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, STORE_FIXED_BYTES, type Store } from './open-store.js';
import { outboxContract } from './outbox-suite.js';

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
