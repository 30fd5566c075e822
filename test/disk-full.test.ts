// Done-when "Disk full" with a real file-size limit (RLIMIT_FSIZE, set with prlimit on a child
// process): writes fail with EFBIG exactly as on a full disk. Clear error, no crash, recovery
// when space returns, no accepted record lost. (The tmpfs ENOSPC variant needs root: it is in
// test/disk-full-tmpfs.interop.test.ts.)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/open-store.js';
import { buildChild, FIXTURES, removeChildBuild } from './helpers/build-child.js';

let script: string;
let dir: string;

beforeAll(() => {
  script = buildChild(join(FIXTURES, 'disk-full-child.ts'));
  dir = mkdtempSync(join(tmpdir(), 'fg-diskfull-'));
});

afterAll(() => {
  removeChildBuild();
  rmSync(dir, { recursive: true, force: true });
});

describe('disk full (file-size limit)', () => {
  it('refuses appends with a clear error, keeps running, recovers when the limit is lifted, loses nothing accepted', async () => {
    const db = join(dir, 'store.db');
    // Soft limit 256 KiB, hard unlimited, so the parent can lift it later.
    const child = spawn('prlimit', ['--fsize=262144:unlimited', process.execPath, script, db, '1500'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const accepted: number[] = [];
    const refused: string[] = [];
    let lifted = false;
    const done = new Promise<void>((resolve, reject) => {
      child.once('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`child exit ${code} ${signal}: ${stderr}`))));
    });
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const [what, ...rest] = line.split(' ');
      if (what === 'accepted') accepted.push(Number(rest[0]));
      else if (what === 'refused') {
        refused.push(rest.join(' '));
        if (!lifted) {
          lifted = true;
          // Space returns: lift the child's file-size limit while it keeps trying.
          execFileSync('prlimit', [`--pid=${child.pid}`, '--fsize=unlimited:unlimited']);
        }
      }
    });
    await done;
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused[0]).toMatch(/^FG_ERR_STORE_IO outbox append failed: cannot write the store file \(disk full, file-size limit.*nothing was accepted$/);
    expect(accepted.length).toBe(1500);
    const store = openStore({ path: db, maxBytes: 1 << 30, maxAgeMs: 86_400_000, onFull: 'drop-oldest' });
    const held = new Set(store.outbox.read(0, 1e6).map((r) => r.seq));
    store.close();
    expect(accepted.filter((s) => !held.has(s))).toEqual([]);
    // Sequences stayed dense: a refused group consumed none.
    expect(Math.max(...accepted)).toBe(1500);
  }, 30_000);
});
