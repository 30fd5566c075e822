import { describe, expect, it } from 'vitest';
import { prng } from '../../test/helpers/fuzz-corpus.js';
import { Framer } from './framer.js';

function packet(bodyLength: number, fill: number): Buffer {
  const header: number[] = [0x30];
  let r = bodyLength;
  do {
    let b = r % 128;
    r = Math.floor(r / 128);
    if (r > 0) b |= 0x80;
    header.push(b);
  } while (r > 0);
  return Buffer.concat([Buffer.from(header), Buffer.alloc(bodyLength, fill)]);
}

describe('Framer', () => {
  it('yields the same frames however the stream is cut', () => {
    const rnd = prng(11);
    const packets = Array.from({ length: 300 }, (_, i) => packet(Math.floor(rnd() * (rnd() < 0.1 ? 40_000 : 300)), i & 0xff));
    const stream = Buffer.concat(packets);
    for (let trial = 0; trial < 20; trial++) {
      const framer = new Framer(1 << 20);
      const frames: Buffer[] = [];
      let at = 0;
      while (at < stream.length) {
        const n = 1 + Math.floor(rnd() * (rnd() < 0.5 ? 8 : 70_000));
        expect(framer.push(stream.subarray(at, at + n), (b, s, e) => (frames.push(Buffer.from(b.subarray(s, e))), true))).toBeUndefined();
        at += n;
      }
      expect(frames.length).toBe(packets.length);
      frames.forEach((f, i) => expect(f.equals(packets[i]!)).toBe(true));
      expect(framer.buffered).toBe(0);
    }
  });

  it('refuses an oversized frame from its header, whole or split, and a five-byte length', () => {
    const big = packet(5000, 1).subarray(0, 3);
    expect(new Framer(1000).push(big, () => true)).toBe('too-large');
    const split = new Framer(1000);
    expect(split.push(big.subarray(0, 2), () => true)).toBeUndefined();
    expect(split.push(big.subarray(2), () => true)).toBe('too-large');
    expect(new Framer(1000).push(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), () => true)).toBe('malformed-length');
  });

  it('keeps the rest when the consumer stops, and resumes on an empty push', () => {
    const framer = new Framer(1 << 20);
    const a = packet(10, 1);
    const b = packet(10, 2);
    const got: Buffer[] = [];
    const c = packet(10, 3);
    framer.push(Buffer.concat([a, b, c]), (b, s, e) => (got.push(Buffer.from(b.subarray(s, e))), false));
    expect(got.length).toBe(1);
    framer.push(Buffer.alloc(0), (b, s, e) => (got.push(Buffer.from(b.subarray(s, e))), got.length < 2));
    expect(got.length).toBe(2);
    framer.push(packet(10, 4).subarray(0, 5), (b, s, e) => (got.push(Buffer.from(b.subarray(s, e))), true));
    framer.push(packet(10, 4).subarray(5), (b, s, e) => (got.push(Buffer.from(b.subarray(s, e))), true));
    expect(got.map((g) => g[2])).toEqual([1, 2, 3, 4]);
  });
});
