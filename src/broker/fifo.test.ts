import { describe, expect, it } from 'vitest';
import { Fifo } from './fifo.js';

describe('Fifo', () => {
  it('keeps order across compactions and reports its length', () => {
    const q = new Fifo<number>();
    let next = 0;
    const out: number[] = [];
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 100; i++) q.push(next++);
      for (let i = 0; i < 60; i++) out.push(q.shift()!);
    }
    expect(q.length).toBe(50 * 40);
    expect(out).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    expect(q.toArray()[0]).toBe(3000);
    while (q.length > 0) q.shift();
    expect(q.shift()).toBeUndefined();
  });
});
