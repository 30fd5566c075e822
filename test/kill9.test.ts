// kill -9 of a gateway (ingest + store + bridge) at random moments, during ingest and during
// replay, >= 20 times: no accepted record lost, duplicates only within the in-flight window,
// and the reference deduper removes all of them.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AedesUpstream } from './helpers/aedes-upstream.js';
import { buildChild, FIXTURES } from './helpers/build-child.js';
import { sampleNumber } from './helpers/records.js';
import { Deduper } from '../src/bridge/deduper.js';

const KILLS = Number(process.env.FG_KILLS ?? 20);
const INFLIGHT = 20;

let script: string;
let dir: string;
let upstream: AedesUpstream;

beforeAll(async () => {
  script = buildChild(join(FIXTURES, 'gateway-child.ts'));
  dir = mkdtempSync(join(tmpdir(), 'fg-kill9-'));
  upstream = await AedesUpstream.start();
});

afterAll(async () => {
  await upstream.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  child: ChildProcess;
  ready: Promise<{ epoch: string; lastSeq: number }>;
  drained: Promise<void>;
  exited: Promise<void>;
}

function runChild(db: string, produce: boolean, accepted: Map<number, number>): Run {
  const child = spawn(process.execPath, [script, db, upstream.url, produce ? 'yes' : 'no', String(INFLIGHT)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let onReady!: (v: { epoch: string; lastSeq: number }) => void;
  let onDrained!: () => void;
  const ready = new Promise<{ epoch: string; lastSeq: number }>((r) => (onReady = r));
  const drained = new Promise<void>((r) => (onDrained = r));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  // A child that dies on its own (a crash, not our kill) fails the test at once.
  const crashed = new Promise<never>((_, reject) => child.once('exit', (code, signal) => {
    if (signal !== 'SIGKILL') reject(new Error(`child exited by itself: code ${code} signal ${signal}`));
  }));
  crashed.catch(() => undefined);
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    const [what, a, b] = line.split(' ');
    if (what === 'ready') onReady({ epoch: a ?? '', lastSeq: Number(b) });
    else if (what === 'accepted') accepted.set(Number(a), Number(b));
    else if (what === 'drained') onDrained();
  });
  return { child, ready: Promise.race([ready, crashed]), drained: Promise.race([drained, crashed]), exited };
}

describe('kill -9 during ingest and replay', () => {
  it(`loses no accepted record across ${KILLS} kills; duplicates stay within the window`, async () => {
    const db = join(dir, 'store.db');
    const accepted = new Map<number, number>();
    let rand = 42;
    const random = () => ((rand = (rand * 1103515245 + 12345) % 2147483648) / 2147483648);
    let epoch = '';
    for (let k = 0; k < KILLS; k++) {
      // Odd rounds: the upstream is down, the child only ingests (building a backlog).
      // Even rounds: the upstream is up and the child replays the backlog while ingesting.
      const replay = k % 2 === 0;
      if (replay) await upstream.restart().catch(() => undefined);
      else await upstream.stop();
      const run = runChild(db, true, accepted);
      const info = await run.ready;
      if (epoch === '') epoch = info.epoch;
      expect(info.epoch).toBe(epoch);
      await new Promise((r) => setTimeout(r, 30 + Math.floor(random() * 150)));
      run.child.kill('SIGKILL');
      await run.exited;
    }
    // Final run: upstream up, no production, until the outbox is empty.
    await upstream.restart().catch(() => undefined);
    const last = runChild(db, false, accepted);
    await last.ready;
    await last.drained;
    last.child.kill('SIGKILL');
    await last.exited;

    expect(accepted.size).toBeGreaterThan(KILLS * 10);
    const count = new Map<number, number>();
    for (const r of upstream.received) {
      expect(r.key?.epoch).toBe(epoch);
      const seq = r.key?.seq ?? -1;
      // The payload is the record that sequence was given to.
      expect(sampleNumber(r.payload)).toBe(seq);
      count.set(seq, (count.get(seq) ?? 0) + 1);
    }
    const lost = [...accepted.keys()].filter((s) => !count.has(s));
    expect(lost).toEqual([]);
    const duplicates = [...count.values()].reduce((a, c) => a + c - 1, 0);
    // Each kill (and each outage) can resend at most the in-flight window.
    expect(duplicates).toBeLessThanOrEqual((KILLS + 1) * INFLIGHT);
    const d = new Deduper();
    const unique = upstream.received.filter((r) => r.key !== undefined && d.accept(r.key));
    expect(unique.length).toBe(count.size);
    expect(d.dropped).toBe(duplicates);
    console.info(`kill -9 x${KILLS}: ${accepted.size} accepted, ${upstream.received.length} received, ${duplicates} duplicates (window ${INFLIGHT})`);
  }, 120_000);
});
