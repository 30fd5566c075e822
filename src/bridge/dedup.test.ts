import { describe, expect, it } from 'vitest';
import { decodePayload, encodePayload } from 'sparkplug-payload/lib/sparkplugbpayload.js';
import {
  appendSparkplugDedupField,
  extractDedupKey,
  formatDedupKey,
  parseDedupKey,
  readSparkplugDedupField,
  DEDUP_USER_PROPERTY,
} from './dedup-key.js';
import { Deduper } from './deduper.js';

describe('dedup key', () => {
  it('round-trips through text with a node id that contains a slash', () => {
    const k = { node: 'plant1/press-4', epoch: 'mhx2k3a19f3c2d', seq: 9_007_199_254_740_991 };
    expect(formatDedupKey(k)).toBe('plant1/press-4/mhx2k3a19f3c2d/9007199254740991');
    expect(parseDedupKey(formatDedupKey(k))).toEqual(k);
  });

  it('rejects malformed text', () => {
    for (const bad of ['', 'a/b', 'n/e/x', 'n/e/-1', '/e/1', 'n//1', 'n/e/99999999999999999']) expect(parseDedupKey(bad)).toBeUndefined();
  });

  it('survives inside a Sparkplug B payload that a strict decoder still accepts unchanged', () => {
    const original = encodePayload({
      timestamp: 1700000000000,
      seq: 17,
      metrics: [{ name: 'Inputs/Temperature', type: 'Double', value: 21.5, timestamp: 1700000000000 }],
    });
    const key = { node: 'plant1/press-4', epoch: 'e1', seq: 123456 };
    const stamped = appendSparkplugDedupField(original, key);
    const decoded = decodePayload(stamped);
    expect(Number(decoded.seq)).toBe(17);
    expect(decoded.metrics?.[0]).toMatchObject({ name: 'Inputs/Temperature', value: 21.5 });
    expect(decodePayload(stamped)).toEqual(decodePayload(original));
    expect(readSparkplugDedupField(stamped)).toEqual(key);
    expect(readSparkplugDedupField(original)).toBeUndefined();
  });

  it('returns undefined for payloads that are not protobuf', () => {
    expect(readSparkplugDedupField(Buffer.from('{"json":true}'))).toBeUndefined();
    expect(readSparkplugDedupField(Buffer.from([0x0a, 0x7f, 0x01]))).toBeUndefined();
    expect(readSparkplugDedupField(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toBeUndefined();
  });

  it('prefers the MQTT 5 user property and falls back to the payload field', () => {
    const k1 = { node: 'g/n', epoch: 'e', seq: 1 };
    const k2 = { node: 'g/n', epoch: 'e', seq: 2 };
    const payload = appendSparkplugDedupField(encodePayload({ seq: 0, metrics: [] }), k2);
    expect(extractDedupKey({ payload, userProperties: { [DEDUP_USER_PROPERTY]: formatDedupKey(k1) } })).toEqual(k1);
    expect(extractDedupKey({ payload })).toEqual(k2);
    expect(extractDedupKey({ payload: Buffer.from('plain') })).toBeUndefined();
  });
});

describe('Deduper', () => {
  it('drops anything at or below the highest sequence seen when the stream is in order', () => {
    const d = new Deduper();
    const seen = [1, 2, 3, 2, 3, 4, 1, 5].map((seq) => d.accept({ node: 'n', epoch: 'e', seq }));
    expect(seen).toEqual([true, true, true, false, false, true, false, true]);
    expect(d.highWater('n', 'e')).toBe(5);
    expect([d.accepted, d.dropped]).toEqual([5, 3]);
  });

  it('keeps nodes and epochs apart', () => {
    const d = new Deduper();
    expect(d.accept({ node: 'a', epoch: 'e', seq: 5 })).toBe(true);
    expect(d.accept({ node: 'b', epoch: 'e', seq: 5 })).toBe(true);
    expect(d.accept({ node: 'a', epoch: 'f', seq: 5 })).toBe(true);
    expect(d.accept({ node: 'a', epoch: 'e', seq: 5 })).toBe(false);
  });

  it('stays exact when live data arrives ahead of the backlog, and replays of both are dropped', () => {
    const d = new Deduper();
    const k = (seq: number) => ({ node: 'n', epoch: 'e', seq });
    for (let s = 1; s <= 10; s++) expect(d.accept(k(s))).toBe(true);
    for (let s = 101; s <= 110; s++) expect(d.accept(k(s))).toBe(true); // live first
    for (let s = 11; s <= 100; s++) expect(d.accept(k(s))).toBe(true); // then the backlog
    for (let s = 1; s <= 110; s++) expect(d.accept(k(s))).toBe(false);
    expect(d.highWater('n', 'e')).toBe(110);
  });

  it('matches a set-based oracle on random interleavings with duplicates', () => {
    let x = 12345;
    const rand = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let round = 0; round < 20; round++) {
      const d = new Deduper();
      const oracle = new Set<number>();
      for (let i = 0; i < 500; i++) {
        const seq = 1 + Math.floor(rand() * 200);
        expect(d.accept({ node: 'n', epoch: 'e', seq })).toBe(!oracle.has(seq));
        oracle.add(seq);
      }
    }
  });

  it('bounds memory: beyond maxRanges the lowest gap is given up and counted', () => {
    const d = new Deduper({ maxRanges: 2 });
    const k = (seq: number) => ({ node: 'n', epoch: 'e', seq });
    d.accept(k(1));
    d.accept(k(3));
    d.accept(k(5));
    d.accept(k(7)); // ranges [3],[5],[7] > 2: the gap at 2 is given up
    expect(d.forcedGaps).toBe(1);
    expect(d.highWater('n', 'e')).toBe(3);
    expect(d.accept(k(2))).toBe(false);
    expect(d.accept(k(4))).toBe(true);
  });
});
