import { describe, expect, it } from 'vitest';
import { exceedsDeadband, valuesEqual } from './deadband.js';

describe('deadband', () => {
  it('absolute: reports only moves strictly larger than the deadband', () => {
    const spec = { deadband: 0.5 };
    expect(exceedsDeadband(10, 10.4, spec)).toBe(false);
    expect(exceedsDeadband(10, 10.5, spec)).toBe(false);
    expect(exceedsDeadband(10, 10.51, spec)).toBe(true);
    expect(exceedsDeadband(10, 9.4, spec)).toBe(true);
  });

  it('no deadband, or 0: every change is reported, an unchanged value is not', () => {
    expect(exceedsDeadband(1, 1.000001, {})).toBe(true);
    expect(exceedsDeadband(1, 1.000001, { deadband: 0 })).toBe(true);
    expect(exceedsDeadband(1, 1, { deadband: 0 })).toBe(false);
  });

  it('percent of the engineering range when the tag has one', () => {
    const spec = { deadband: '2%', range: { min: 0, max: 500 } }; // 10 units
    expect(exceedsDeadband(100, 109, spec)).toBe(false);
    expect(exceedsDeadband(100, 110.5, spec)).toBe(true);
  });

  it('percent of the last reported value without a range', () => {
    const spec = { deadband: '10%' };
    expect(exceedsDeadband(200, 219, spec)).toBe(false);
    expect(exceedsDeadband(200, 221, spec)).toBe(true);
    expect(exceedsDeadband(-200, -221, spec)).toBe(true);
  });

  it('bigint values are compared numerically', () => {
    expect(exceedsDeadband(1000n, 1004n, { deadband: 5 })).toBe(false);
    expect(exceedsDeadband(1000n, 1006n, { deadband: 5 })).toBe(true);
  });

  it('non-numeric values report on any change; NaN equals NaN; null differs from a value', () => {
    expect(exceedsDeadband('AUTO', 'AUTO', { deadband: 1 })).toBe(false);
    expect(exceedsDeadband('AUTO', 'MANUAL', { deadband: 1 })).toBe(true);
    expect(exceedsDeadband(true, false, {})).toBe(true);
    expect(exceedsDeadband(Number.NaN, Number.NaN, {})).toBe(false);
    expect(exceedsDeadband(1, Number.NaN, { deadband: 5 })).toBe(true);
    expect(exceedsDeadband(null, 3, { deadband: 5 })).toBe(true);
  });

  it('byte arrays compare by content', () => {
    expect(valuesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(valuesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
  });
});
