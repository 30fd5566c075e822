import { describe, expect, it } from 'vitest';
import { AppendQueue } from './append-queue.js';
import { MemoryOutbox } from './memory-outbox.js';
import { rec } from '../../test/contracts/outbox-suite.js';
import type { Outbox, OutboxRecordInput } from './outbox.js';
import { FieldgateError } from '../errors.js';

function counting(outbox: Outbox): { outbox: Outbox; groups: number[] } {
  const groups: number[] = [];
  const append = outbox.append.bind(outbox);
  outbox.append = (records: readonly OutboxRecordInput[]) => {
    groups.push(records.length);
    return append(records);
  };
  return { outbox, groups };
}

describe('AppendQueue (group commit)', () => {
  it('commits records enqueued in one turn as one group and resolves each with its sequence', async () => {
    const { outbox, groups } = counting(new MemoryOutbox({ maxBytes: 1e9, maxAgeMs: 1e9, onFull: 'drop-oldest' }));
    const q = new AppendQueue(outbox, { maxBatch: 4 });
    const seqs = await Promise.all(Array.from({ length: 10 }, (_, i) => q.enqueue(rec(i))));
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(groups).toEqual([4, 4, 2]);
    expect(q.size).toBe(0);
  });

  it('rejects every record of a group the store refused, and accepts the next group', async () => {
    const outbox = new MemoryOutbox({ maxBytes: 1e9, maxAgeMs: 1e9, onFull: 'drop-oldest' });
    const append = outbox.append.bind(outbox);
    let fail = true;
    outbox.append = (records) => {
      if (fail) throw new FieldgateError('FG_ERR_STORE_DISK_FULL', 'full');
      return append(records);
    };
    const q = new AppendQueue(outbox);
    const results = await Promise.allSettled([q.enqueue(rec(1)), q.enqueue(rec(2))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await expect(q.enqueue(rec(3))).resolves.toBe(1);
  });

  it('resolves null for a record reject-new refused', async () => {
    const q = new AppendQueue(new MemoryOutbox({ maxBytes: 100, maxAgeMs: 1e9, onFull: 'reject-new' }));
    await expect(q.enqueue(rec(1, 1000))).resolves.toBeNull();
  });

  it('enforces maxAge on the append path, at most once per expireEveryMs', async () => {
    let wall = 1_000_000;
    let mono = 0;
    const outbox = new MemoryOutbox({ maxBytes: 1e9, maxAgeMs: 60_000, onFull: 'drop-oldest', now: () => wall });
    const q = new AppendQueue(outbox, { expireEveryMs: 1000, monotonic: () => mono });
    await q.enqueue(rec(1));
    wall += 61_000;
    mono += 500;
    await q.enqueue(rec(2));
    expect(outbox.stats().dropped.age).toBe(0); // too soon to look again
    mono += 600;
    await q.enqueue(rec(3));
    expect(outbox.stats()).toMatchObject({ depth: 2, dropped: { age: 1 } });
  });
});
