// The budget warning on a real SQLite store: the first drop logged at once with what was
// dropped, later ones folded into one summary per interval, nothing logged per record.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../observe/logger.js';
import { openStore, STORE_FIXED_BYTES, type Store } from './open-store.js';
import { recordBytes, type OnFull, type OutboxRecordInput } from './outbox.js';
import { BUDGET_LOG_MESSAGE } from './budget-log.js';

interface Line { msg: string; code?: string; level: number; evicted: number; evictedBytes: number; oldestSeq?: number; newestSeq?: number; rejected: number; rejectedBytes: number; summary: boolean; sinceMs?: number }

let dir: string;
let store: Store | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fg-budget-log-'));
});
afterEach(() => {
  store?.close();
  store = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const rec = (n: number): OutboxRecordInput => ({ kind: 'mqtt', topic: 'plant/t', payload: Buffer.alloc(100, n), qos: 1 });
const PER = recordBytes(rec(0));

function open(onFull: OnFull, records: number, intervalMs: number, now?: () => number): { lines: Line[]; store: Store } {
  const lines: Line[] = [];
  const logger = createLogger({ destination: new Writable({ write(c: Buffer, _e, cb) { lines.push(JSON.parse(c.toString()) as Line); cb(); } }) });
  store = openStore({
    path: join(dir, 'store.db'),
    maxBytes: STORE_FIXED_BYTES + records * PER,
    maxAgeMs: 86_400_000,
    onFull,
    logger,
    budgetLogIntervalMs: intervalMs,
    ...(now !== undefined ? { now } : {}),
  });
  return { lines, store };
}

const budgetLines = (lines: Line[]) => lines.filter((l) => l.code === 'FG_ERR_STORE_BUDGET');

describe('budget warning (FG_ERR_STORE_BUDGET)', () => {
  it('drop-oldest: the first eviction at once, the next ones in one summary per interval', () => {
    let t = 1_700_000_000_000;
    const { lines, store: s } = open('drop-oldest', 10, 60_000, () => t);
    s.outbox.append(Array.from({ length: 10 }, (_, i) => rec(i)));
    expect(budgetLines(lines)).toHaveLength(0);

    s.outbox.append([rec(10), rec(11)]); // evicts seqs 1-2
    const first = budgetLines(lines);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ msg: BUDGET_LOG_MESSAGE, level: 40, evicted: 2, evictedBytes: 2 * PER, oldestSeq: 1, newestSeq: 2, rejected: 0, summary: false });

    // 100 more appends in the next minute: no line per append.
    for (let i = 0; i < 100; i++) {
      t += 500;
      s.outbox.append([rec(12 + i)]); // evicts 3, 4, ... 102
    }
    expect(budgetLines(lines)).toHaveLength(1);

    t += 11_000; // 61 s after the first line
    s.outbox.append([rec(200)]); // evicts 103
    const after = budgetLines(lines);
    expect(after).toHaveLength(2);
    expect(after[1]).toMatchObject({ evicted: 101, evictedBytes: 101 * PER, oldestSeq: 3, newestSeq: 103, rejected: 0, summary: true, sinceMs: 61_000 });
    // The counters the metric reads agree with what was logged.
    expect(s.outbox.stats().dropped.budget).toBe(2 + 101);
  });

  it('reject-new: refused records logged with their count and bytes, no seq range', () => {
    let t = 1_700_000_000_000;
    const { lines, store: s } = open('reject-new', 5, 60_000, () => t);
    s.outbox.append(Array.from({ length: 5 }, (_, i) => rec(i)));
    s.outbox.append([rec(5), rec(6), rec(7)]);
    t += 1000;
    s.outbox.append([rec(8)]);
    const got = budgetLines(lines);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ evicted: 0, rejected: 3, rejectedBytes: 3 * PER, summary: false });
    expect(got[0]!.oldestSeq).toBeUndefined();
    // Nothing more is dropped: the held-back refusal is logged on close, not lost.
    s.close();
    const closed = budgetLines(lines);
    expect(closed).toHaveLength(2);
    expect(closed[1]).toMatchObject({ rejected: 1, summary: true });
  });

  it('logs a pending summary when the interval passes even if the drops have stopped', async () => {
    const { lines, store: s } = open('drop-oldest', 4, 150);
    s.outbox.append(Array.from({ length: 6 }, (_, i) => rec(i))); // evicts 1-2
    s.outbox.append([rec(6)]); // evicts 3: held back
    expect(budgetLines(lines)).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 300));
    const got = budgetLines(lines);
    expect(got).toHaveLength(2);
    expect(got[1]).toMatchObject({ evicted: 1, oldestSeq: 3, newestSeq: 3, summary: true });
  });

  it('an append that drops nothing logs nothing', () => {
    const { lines, store: s } = open('drop-oldest', 1000, 60_000);
    for (let i = 0; i < 50; i++) s.outbox.append([rec(i)]);
    s.close();
    expect(budgetLines(lines)).toHaveLength(0);
  });
});
