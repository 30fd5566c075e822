import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration, parseSize } from './units.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['1s', 1000],
    ['1.5s', 1500],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['7d', 604_800_000],
    ['1w', 604_800_000],
    [' 10s ', 10_000],
    [250, 250],
  ] as const)('%s → %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each(['1 sec', '1', 's', '-1s', '1y', '', '1.s'])('rejects %j', (input) => {
    expect(() => parseDuration(input)).toThrow(/not a duration/);
  });

  it('rejects negative and non-finite numbers', () => {
    expect(() => parseDuration(-5)).toThrow();
    expect(() => parseDuration(Infinity)).toThrow();
  });

  it('formats back to the largest whole unit', () => {
    expect(formatDuration(604_800_000)).toBe('7d');
    expect(formatDuration(90_000)).toBe('90s');
    expect(formatDuration(1500)).toBe('1500ms');
  });
});

describe('parseSize', () => {
  it.each([
    ['512MiB', 512 * 1024 * 1024],
    ['64KiB', 65_536],
    ['2GB', 2_000_000_000],
    ['1gib', 1024 ** 3],
    ['100B', 100],
    ['1.5KiB', 1536],
    [4096, 4096],
  ] as const)('%s → %d bytes', (input, bytes) => {
    expect(parseSize(input)).toBe(bytes);
  });

  it.each(['512 megabytes', 'MiB', '12', '-1KB', '1XB'])('rejects %j', (input) => {
    expect(() => parseSize(input)).toThrow(/not a size/);
  });

  it('rejects fractional byte counts', () => {
    expect(() => parseSize(1.5)).toThrow();
  });
});
