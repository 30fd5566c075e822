import { describe, expect, it } from 'vitest';
import { reportedType, toEngineering, toRaw } from './scaling.js';

const tag = (type: string, scale = 1, offset = 0) => ({ type, scale, offset }) as Parameters<typeof toRaw>[1];

describe('scaling', () => {
  it('applies raw * scale + offset to numeric tags', () => {
    expect(toEngineering(1234, tag('int16', 0.1))).toBeCloseTo(123.4, 10);
    expect(toEngineering(100, tag('uint16', 0.5, -20))).toBe(30);
    expect(toEngineering(12n, tag('int64', 2))).toBe(24);
  });

  it('rounds to decimals after scaling (issue 20: 539 * 0.1 reported as 53.9)', () => {
    expect(toEngineering(539, tag('int16', 0.1))).toBe(53.900000000000006);
    const d = (type: string, scale: number, offset: number, decimals: number) => ({ ...tag(type, scale, offset), decimals });
    expect(toEngineering(539, d('int16', 0.1, 0, 1))).toBe(53.9);
    expect(toEngineering(-539, d('int16', 0.1, 0, 1))).toBe(-53.9);
    expect(toEngineering(1005, d('int16', 0.001, 0, 2))).toBe(1.01); // half away from zero, not 1.00 from 1.00499..
    expect(toEngineering(0.1 + 0.2, d('float64', 1, 0, 3))).toBe(0.3);
    expect(toEngineering(12345, d('int32', 1, 0, 0))).toBe(12345);
    expect(toEngineering(-0.04, d('float64', 1, 0, 1))).toBe(0);
    expect(Object.is(toEngineering(-0.04, d('float64', 1, 0, 1)), -0)).toBe(false);
    expect(toEngineering(Number.NaN, d('float64', 1, 0, 1))).toBeNaN();
  });

  it('leaves unscaled and non-numeric values untouched', () => {
    expect(toEngineering(42, tag('int16'))).toBe(42);
    expect(toEngineering(9007199254740993n, tag('int64'))).toBe(9007199254740993n);
    expect(toEngineering('AUTO', tag('string'))).toBe('AUTO');
    expect(toEngineering(true, tag('bool'))).toBe(true);
  });

  it('reports scaled integers as float64', () => {
    expect(reportedType(tag('int16', 0.1))).toBe('float64');
    expect(reportedType(tag('int16'))).toBe('int16');
    expect(reportedType(tag('bool'))).toBe('bool');
  });

  it('inverts the scaling for writes, rounding to the nearest raw integer', () => {
    expect(toRaw(12.3, tag('int16', 0.1))).toBe(123);
    expect(toRaw(30, tag('uint16', 0.5, -20))).toBe(100);
    expect(toRaw(2.5, tag('float32'))).toBe(2.5);
    expect(toRaw(5, tag('int64'))).toBe(5n);
  });

  it('refuses values the raw type cannot hold', () => {
    expect(() => toRaw(70000, tag('int16'))).toThrow(/outside the int16 range/);
    expect(() => toRaw(-1, tag('uint16'))).toThrow(/outside the uint16 range/);
    expect(() => toRaw(5000, tag('int16', 0.1))).toThrow(/raw value 50000/);
    expect(() => toRaw('x', tag('float64'))).toThrow(/expected a number/);
    expect(() => toRaw(2, tag('bool'))).toThrow(/expected a boolean/);
    expect(() => toRaw(Number.NaN, tag('float64'))).toThrow(/not finite/);
  });

  it('accepts 0/1 for booleans and keeps strings for string tags', () => {
    expect(toRaw(1, tag('bool'))).toBe(true);
    expect(toRaw(false, tag('bool'))).toBe(false);
    expect(toRaw('RUN', tag('string'))).toBe('RUN');
  });
});
