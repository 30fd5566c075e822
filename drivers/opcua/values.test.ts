import { describe, expect, it } from 'vitest';
import { qualityOf } from './quality.js';
import { BuiltinType, fromVariant, toVariantValue, toWords } from './values.js';

describe('opcua status codes and values', () => {
  it('maps the severity bits of a status code to quality (Part 4, 7.39)', () => {
    expect(qualityOf(0)).toBe('GOOD');
    expect(qualityOf(0x002d0000)).toBe('GOOD'); // GoodSubscriptionTransferred
    expect(qualityOf(0x40900000)).toBe('UNCERTAIN'); // UncertainLastUsableValue
    expect(qualityOf(0x808b0000)).toBe('BAD'); // BadSensorFailure
    expect(qualityOf(0x80340000)).toBe('BAD'); // BadNodeIdUnknown
    expect(qualityOf(0xc0000000)).toBe('BAD'); // reserved severity counts as Bad
  });

  it('reads Int64 [high, low] words as bigint, signed and unsigned', () => {
    expect(fromVariant(BuiltinType.Int64, [0xffffffff, 0xfffffffe], 'int64')).toBe(-2n);
    expect(fromVariant(BuiltinType.UInt64, [0xffffffff, 0xffffffff], 'uint64')).toBe(2n ** 64n - 1n);
    expect(toWords(-2n)).toEqual([0xffffffff, 0xfffffffe]);
    expect(toVariantValue(BuiltinType.Int64, -2n)).toEqual([0xffffffff, 0xfffffffe]);
  });

  it('coerces to the tag type and refuses what does not fit', () => {
    expect(fromVariant(BuiltinType.Double, 2.6, 'int16')).toBe(3);
    expect(fromVariant(BuiltinType.Boolean, true, 'float64')).toBe(1);
    expect(fromVariant(BuiltinType.DateTime, new Date(5000), 'datetime')).toBe(5000);
    expect(fromVariant(BuiltinType.LocalizedText, { text: 'Run', locale: 'en' }, 'string')).toBe('Run');
    expect(() => fromVariant(BuiltinType.String, 'abc', 'float64')).toThrow(/cannot read string as float64/);
    expect(() => fromVariant(BuiltinType.Double, [1, 2], 'float64')).toThrow(/array/);
    expect(() => fromVariant(BuiltinType.Double, null, 'float64')).toThrow(/no value/);
  });

  it('shapes writes for the node data type', () => {
    expect(toVariantValue(BuiltinType.Int16, 42)).toBe(42);
    expect(() => toVariantValue(BuiltinType.Int16, 1.5)).toThrow(/Int16/);
    expect(toVariantValue(BuiltinType.Boolean, 1)).toBe(true);
    expect(toVariantValue(BuiltinType.DateTime, 1000)).toEqual(new Date(1000));
    expect(() => toVariantValue(BuiltinType.String, 3)).toThrow(/String/);
    expect(() => toVariantValue(BuiltinType.NodeId, 'x')).toThrow(/not supported/);
  });
});
