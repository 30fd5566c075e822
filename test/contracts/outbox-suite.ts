// The contract every Outbox implementation passes (after aedes' abstract persistence suite).
// Each implementation's test file calls `outboxContract` with a factory.
import { describe, expect, it } from 'vitest';
import { recordBytes, type OnFull, type Outbox, type OutboxRecordInput } from '../../src/store/outbox.js';

export interface OutboxFixture {
  outbox: Outbox;
  /** For durable implementations: close and open the same storage again. */
  reopen?: () => Outbox;
  cleanup(): void;
}

export interface FixtureOptions {
  maxBytes?: number;
  maxAgeMs?: number;
  onFull?: OnFull;
  now?: () => number;
}

export type OutboxFactory = (options: FixtureOptions) => OutboxFixture;

export function rec(i: number, size = 10, extra: Partial<OutboxRecordInput> = {}): OutboxRecordInput {
  return { kind: 'mqtt', topic: `t/${i % 3}`, payload: Buffer.alloc(size, i & 0xff), qos: 1, ...extra };
}

function withFixture(factory: OutboxFactory, options: FixtureOptions, fn: (f: OutboxFixture) => void): void {
  const f = factory(options);
  try {
    fn(f);
  } finally {
    f.cleanup();
  }
}

export function outboxContract(name: string, factory: OutboxFactory): void {
  describe(`Outbox contract: ${name}`, () => {
    it('assigns increasing sequences from 1 and reads them back in order', () => {
      withFixture(factory, {}, ({ outbox }) => {
        const { seqs } = outbox.append([rec(1), rec(2), rec(3, 5, { qos: 0, retain: true, createdAt: 42 })]);
        expect(seqs).toEqual([1, 2, 3]);
        const rows = outbox.read(0, 10);
        expect(rows.map((r) => r.seq)).toEqual([1, 2, 3]);
        expect(rows[2]).toMatchObject({ kind: 'mqtt', topic: 't/0', qos: 0, retain: true, createdAt: 42 });
        expect(rows[2]?.payload.equals(Buffer.alloc(5, 3))).toBe(true);
        expect(outbox.read(1, 1).map((r) => r.seq)).toEqual([2]);
        expect(outbox.read(3, 10)).toEqual([]);
      });
    });

    it('keeps rows until acknowledged and advances the high-water mark only over a gap-free prefix', () => {
      withFixture(factory, {}, ({ outbox }) => {
        outbox.append([rec(1), rec(2), rec(3), rec(4)]);
        outbox.ack([[3, 3]]);
        expect(outbox.stats()).toMatchObject({ depth: 3, ackedThrough: 0 });
        expect(outbox.read(0, 10).map((r) => r.seq)).toEqual([1, 2, 4]);
        outbox.ack([[1, 2]]);
        expect(outbox.stats()).toMatchObject({ depth: 1, ackedThrough: 3 });
        expect(outbox.ackedThrough()).toBe(3);
        outbox.ackThrough(4);
        expect(outbox.stats()).toMatchObject({ depth: 0, bytes: 0, ackedThrough: 4, lastSeq: 4 });
      });
    });

    it('never reuses a sequence, even after everything was acknowledged', () => {
      withFixture(factory, {}, (f) => {
        f.outbox.append([rec(1), rec(2)]);
        f.outbox.ackThrough(2);
        expect(f.outbox.append([rec(3)]).seqs).toEqual([3]);
        if (f.reopen !== undefined) {
          f.outbox.ackThrough(3);
          const again = f.reopen();
          expect(again.append([rec(4)]).seqs).toEqual([4]);
        }
      });
    });

    it('accounts bytes exactly: appends add recordBytes, acks subtract what they removed', () => {
      withFixture(factory, {}, ({ outbox }) => {
        const inputs = [rec(1, 100), rec(2, 7, { topic: 'ünïcode/tøpic' }), rec(3, 0)];
        outbox.append(inputs);
        const sum = inputs.reduce((a, r) => a + recordBytes(r), 0);
        expect(outbox.stats().bytes).toBe(sum);
        expect(outbox.read(0, 10).reduce((a, r) => a + r.bytes, 0)).toBe(sum);
        outbox.ack([[2, 2]]);
        expect(outbox.stats().bytes).toBe(sum - recordBytes(inputs[1] as OutboxRecordInput));
        outbox.ack([[2, 2]]);
        expect(outbox.stats().bytes).toBe(sum - recordBytes(inputs[1] as OutboxRecordInput));
      });
    });

    it('drop-oldest: evicts exactly enough of the oldest records, counts each, stays in budget', () => {
      const size = recordBytes(rec(0, 100));
      withFixture(factory, { maxBytes: size * 10, onFull: 'drop-oldest' }, ({ outbox }) => {
        for (let i = 0; i < 25; i++) outbox.append([rec(i, 100)]);
        const st = outbox.stats();
        expect(st.depth).toBe(10);
        expect(st.bytes).toBe(size * 10);
        expect(st.dropped).toEqual({ budget: 15, age: 0, rejected: 0 });
        expect(outbox.read(0, 100).map((r) => r.seq)).toEqual([16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
        expect(st.ackedThrough).toBe(15);
        const { seqs, evicted } = outbox.append([rec(0, 100), rec(1, 100)]);
        expect(seqs).toEqual([26, 27]);
        expect(evicted).toBe(2);
      });
    });

    it('reject-new: refuses what does not fit, counts it, keeps the old records', () => {
      const size = recordBytes(rec(0, 100));
      withFixture(factory, { maxBytes: size * 3, onFull: 'reject-new' }, ({ outbox }) => {
        const { seqs, evicted } = outbox.append([rec(1, 100), rec(2, 100), rec(3, 100), rec(4, 100), rec(5, 1)]);
        expect(seqs).toEqual([1, 2, 3, null, null]);
        expect(evicted).toBe(0);
        expect(outbox.stats()).toMatchObject({ depth: 3, bytes: size * 3, dropped: { budget: 0, age: 0, rejected: 2 } });
        outbox.ackThrough(1);
        expect(outbox.append([rec(6, 100)]).seqs).toEqual([4]);
      });
    });

    it('refuses a single record larger than the whole budget without evicting anything', () => {
      withFixture(factory, { maxBytes: 1000, onFull: 'drop-oldest' }, ({ outbox }) => {
        outbox.append([rec(1, 10)]);
        expect(outbox.append([rec(2, 2000)]).seqs).toEqual([null]);
        expect(outbox.stats()).toMatchObject({ depth: 1, dropped: { budget: 0, rejected: 1 } });
      });
    });

    it('expires records older than maxAge, counted, and keeps the young ones', () => {
      let t = 1_000_000;
      withFixture(factory, { maxAgeMs: 60_000, now: () => t }, ({ outbox }) => {
        outbox.append([rec(1), rec(2)]);
        t += 30_000;
        outbox.append([rec(3)]);
        t += 40_000;
        expect(outbox.expire()).toBe(2);
        expect(outbox.read(0, 10).map((r) => r.seq)).toEqual([3]);
        expect(outbox.stats()).toMatchObject({ depth: 1, ackedThrough: 2, oldestCreatedAt: 1_030_000, dropped: { age: 2 } });
        expect(outbox.expire()).toBe(0);
      });
    });

    it('tells listeners about accepted appends only', () => {
      withFixture(factory, { maxBytes: 10, onFull: 'reject-new' }, ({ outbox }) => {
        let calls = 0;
        const off = outbox.onAppend(() => calls++);
        outbox.append([rec(1, 100)]);
        expect(calls).toBe(0);
        off();
      });
      withFixture(factory, {}, ({ outbox }) => {
        let calls = 0;
        const off = outbox.onAppend(() => calls++);
        outbox.append([rec(1)]);
        off();
        outbox.append([rec(2)]);
        expect(calls).toBe(1);
      });
    });

    it('refuses use after close with FG_ERR_STORE_CLOSED', () => {
      withFixture(factory, {}, ({ outbox }) => {
        outbox.close();
        expect(() => outbox.append([rec(1)])).toThrow(expect.objectContaining({ code: 'FG_ERR_STORE_CLOSED' }));
      });
    });

    it('keeps rows, sequence, high-water mark and drop counters across a reopen (durable implementations)', () => {
      const size = recordBytes(rec(0, 100));
      withFixture(factory, { maxBytes: size * 5, onFull: 'drop-oldest' }, (f) => {
        for (let i = 0; i < 8; i++) f.outbox.append([rec(i, 100)]);
        f.outbox.ack([[5, 5]]);
        const before = f.outbox.stats();
        if (f.reopen === undefined) {
          expect(before.depth).toBe(4);
          return;
        }
        const again = f.reopen();
        expect(again.epoch).toBe(f.outbox.epoch);
        const after = again.stats();
        expect(after).toEqual(before);
        expect(again.read(0, 100).map((r) => r.seq)).toEqual([4, 6, 7, 8]);
        expect(after.dropped.budget).toBe(3);
      });
    });
  });
}
