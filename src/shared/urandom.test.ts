import { describe, expect, it } from 'vitest';
import { urandomBytes } from './urandom.js';

describe('urandomBytes', () => {
  it('returns the bytes asked for, different each time', () => {
    expect(urandomBytes(3)).toHaveLength(3);
    const a = urandomBytes(64);
    const b = urandomBytes(64);
    expect(a).toHaveLength(64);
    expect(a.equals(b)).toBe(false);
    // 64 random bytes are not all one value (a zero-filled buffer would be).
    expect(new Set(a).size).toBeGreaterThan(8);
  });
});
