// kill -9 of a gateway child (ingest + store + bridge) at random moments. Odd rounds point the
// child at a dead upstream so it only ingests (building a backlog); even rounds point it at
// the live upstream so it replays while ingesting. A last run drains everything.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { DedupKey } from '../../src/bridge/dedup-key.js';
import { Deduper } from '../../src/bridge/deduper.js';
import { buildChild, FIXTURES } from './build-child.js';
import { sampleNumber } from './records.js';

export interface KillScenario {
  kills: number;
  inflight: number;
  db: string;
  liveUrl: string;
  deadUrl: string;
  /** Everything the central consumer has received so far. */
  received: () => ReadonlyArray<{ key: DedupKey | undefined; payload: Buffer }>;
  seed?: number;
  /** upstream.confirm of the child (QoS 0 samples then); unset: the bridge's legacy default, QoS 1 samples. */
  confirm?: 'qos1' | 'fence' | 'host';
}

export interface KillOutcome {
  epoch: string;
  accepted: Map<number, number>;
  lost: number[];
  duplicates: number;
  mismatched: number;
  dedupDropped: number;
  uniqueReceived: number;
  foreignEpochs: number;
}

interface Run {
  child: ChildProcess;
  ready: Promise<{ epoch: string; lastSeq: number }>;
  drained: Promise<void>;
  exited: Promise<void>;
}

function runChild(script: string, s: KillScenario, url: string, produce: boolean, accepted: Map<number, number>): Run {
  const child = spawn(process.execPath, [script, s.db, url, produce ? 'yes' : 'no', String(s.inflight), ...(s.confirm !== undefined ? [s.confirm] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
  let onReady!: (v: { epoch: string; lastSeq: number }) => void;
  let onDrained!: () => void;
  const ready = new Promise<{ epoch: string; lastSeq: number }>((r) => (onReady = r));
  const drained = new Promise<void>((r) => (onDrained = r));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  // A child that dies on its own (a crash, not our kill) fails the scenario at once.
  const crashed = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited by itself: code ${code} signal ${signal}`));
    }),
  );
  crashed.catch(() => undefined);
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    const [what, a, b] = line.split(' ');
    if (what === 'ready') onReady({ epoch: a ?? '', lastSeq: Number(b) });
    else if (what === 'accepted') accepted.set(Number(a), Number(b));
    else if (what === 'drained') onDrained();
  });
  return { child, ready: Promise.race([ready, crashed]), drained: Promise.race([drained, crashed]), exited };
}

export async function runKillScenario(s: KillScenario): Promise<KillOutcome> {
  const script = buildChild(join(FIXTURES, 'gateway-child.ts'));
  const accepted = new Map<number, number>();
  let rand = s.seed ?? 42;
  const random = () => (rand = (rand * 1103515245 + 12345) % 2147483648) / 2147483648;
  let epoch = '';
  for (let k = 0; k < s.kills; k++) {
    const run = runChild(script, s, k % 2 === 0 ? s.liveUrl : s.deadUrl, true, accepted);
    const info = await run.ready;
    if (epoch === '') epoch = info.epoch;
    if (info.epoch !== epoch) throw new Error(`epoch changed from ${epoch} to ${info.epoch} after a kill`);
    await new Promise((r) => setTimeout(r, 30 + Math.floor(random() * 150)));
    run.child.kill('SIGKILL');
    await run.exited;
  }
  const last = runChild(script, s, s.liveUrl, false, accepted);
  await last.ready;
  await last.drained;
  last.child.kill('SIGKILL');
  await last.exited;

  const count = new Map<number, number>();
  let mismatched = 0;
  let foreignEpochs = 0;
  for (const r of s.received()) {
    if (r.key?.epoch !== epoch) foreignEpochs++;
    const seq = r.key?.seq ?? -1;
    if (sampleNumber(r.payload) !== seq) mismatched++;
    count.set(seq, (count.get(seq) ?? 0) + 1);
  }
  const d = new Deduper();
  const unique = s.received().filter((r) => r.key !== undefined && d.accept(r.key)).length;
  return {
    epoch,
    accepted,
    lost: [...accepted.keys()].filter((q) => !count.has(q)),
    duplicates: [...count.values()].reduce((a, c) => a + c - 1, 0),
    mismatched,
    dedupDropped: d.dropped,
    uniqueReceived: unique,
    foreignEpochs,
  };
}
