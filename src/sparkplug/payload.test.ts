import { describe, expect, it } from 'vitest';
import { decodeIndependently } from '../../test/sparkplug/independent-decoder.js';
import { DataType } from './datatypes.js';
import { decodePayload, encodePayload, type SpMetric } from './payload.js';

const one = (m: SpMetric) => decodeIndependently(encodePayload({ timestamp: 1_700_000_000_123, seq: 7, metrics: [m] }));

describe('Sparkplug payload encoding, checked by an independent decoder', () => {
  it('writes timestamp and seq as uint64', () => {
    const p = one({ name: 'a', type: DataType.Boolean, value: true });
    expect(p.timestamp).toBe('1700000000123');
    expect(p.seq).toBe('7');
  });

  it.each([
    ['Int8 -5', DataType.Int8, -5, 'intValue', 4294967291],
    ['Int16 -2', DataType.Int16, -2, 'intValue', 4294967294],
    ['Int32 -2147483648', DataType.Int32, -2147483648, 'intValue', 2147483648],
    ['UInt16 65535', DataType.UInt16, 65535, 'intValue', 65535],
    ['UInt32 4294967295 (long_value, as the 3.0.0 TCK wants)', DataType.UInt32, 4294967295, 'longValue', '4294967295'],
    ['Int64 -1', DataType.Int64, -1n, 'longValue', '18446744073709551615'],
    ['Int64 2^53+1 without rounding', DataType.Int64, 9007199254740993n, 'longValue', '9007199254740993'],
    ['UInt64 max', DataType.UInt64, 18446744073709551615n, 'longValue', '18446744073709551615'],
    ['DateTime', DataType.DateTime, 1_700_000_000_000, 'longValue', '1700000000000'],
    ['Float', DataType.Float, 1.5, 'floatValue', 1.5],
    ['Double', DataType.Double, 0.1, 'doubleValue', 0.1],
    ['Boolean', DataType.Boolean, false, 'booleanValue', false],
    ['String', DataType.String, 'AUTO', 'stringValue', 'AUTO'],
    ['Text', DataType.Text, 'long text', 'stringValue', 'long text'],
    ['UUID', DataType.UUID, '123e4567-e89b-12d3-a456-426614174000', 'stringValue', '123e4567-e89b-12d3-a456-426614174000'],
  ] as const)('%s goes in %s', (_label, type, value, field, wire) => {
    const m = one({ name: 'x', type, value }).metrics?.[0] ?? {};
    expect(m.datatype).toBe(type);
    expect(m[field]).toEqual(wire);
  });

  it('packs array types into bytes_value exactly as spec 6.4.17 describes (hand-computed bytes)', () => {
    const bytes = (type: (typeof DataType)[keyof typeof DataType], value: SpMetric['value']) =>
      (one({ name: 'arr', type, value }).metrics?.[0]?.bytesValue as Buffer).toString('hex');
    expect(bytes(DataType.Int32Array, [123456789, 987654321])).toBe('15cd5b07b168de3a');
    expect(bytes(DataType.Int8Array, [-23, 123])).toBe('e97b');
    expect(bytes(DataType.UInt16Array, [1, 65535])).toBe('0100ffff');
    expect(bytes(DataType.Int64Array, [-2n])).toBe('feffffffffffffff');
    expect(bytes(DataType.DoubleArray, [1])).toBe('000000000000f03f');
    expect(bytes(DataType.FloatArray, [1])).toBe('0000803f');
    expect(bytes(DataType.BooleanArray, [true, false, true, true, false, false, false, false, true])).toBe('09000000b080');
    expect(bytes(DataType.StringArray, ['ABC', 'hello'])).toBe('41424300' + '68656c6c6f00');
    expect(bytes(DataType.DateTimeArray, [1])).toBe('0100000000000000');
  });

  it('leaves the datatype out of DATA metrics when asked, keeping the alias and value', () => {
    const m = one({ alias: 12, type: DataType.Double, writeDatatype: false, value: 2.5, timestamp: 5 }).metrics?.[0] ?? {};
    expect(m.datatype).toBeUndefined();
    expect(m.name).toBeUndefined();
    expect(m).toMatchObject({ alias: '12', doubleValue: 2.5, timestamp: '5' });
  });

  it('marks null values with is_null and no value field, and flags historical ones', () => {
    const m = one({ name: 'x', type: DataType.Double, value: null, isHistorical: true }).metrics?.[0] ?? {};
    expect(m).toMatchObject({ isNull: true, isHistorical: true, datatype: DataType.Double });
    expect(m.doubleValue).toBeUndefined();
  });

  it('writes Quality (Int32) and engUnit (String) as properties', () => {
    const m = one({ name: 'x', type: DataType.Double, value: 1, properties: { Quality: { type: DataType.Int32, value: 192 }, engUnit: { type: DataType.String, value: 'bar' } } }).metrics?.[0] ?? {};
    expect(m.properties).toEqual({
      keys: ['Quality', 'engUnit'],
      values: [
        { type: DataType.Int32, intValue: 192 },
        { type: DataType.String, stringValue: 'bar' },
      ],
    });
  });
});

describe('Sparkplug payload decoding (commands from hosts)', () => {
  it('round-trips every scalar type and arrays through our own decoder', () => {
    const cases: Array<[number, SpMetric['value']]> = [
      [DataType.Int8, -5], [DataType.Int16, -300], [DataType.Int32, -70000], [DataType.UInt8, 255], [DataType.UInt16, 65535],
      [DataType.UInt32, 4294967295], [DataType.Int64, -9007199254740993n], [DataType.UInt64, 18446744073709551615n],
      [DataType.Float, 1.5], [DataType.Double, 0.1], [DataType.Boolean, true], [DataType.String, 'x'], [DataType.DateTime, 1_700_000_000_000],
      [DataType.Bytes, new Uint8Array([1, 2, 3])], [DataType.BooleanArray, [true, false, true]], [DataType.StringArray, ['a', 'bc']],
      [DataType.Int16Array, [-1, 2]], [DataType.UInt64Array, [18446744073709551615n]],
    ];
    const decoded = decodePayload(encodePayload({ metrics: cases.map(([type, value], i) => ({ name: `m${i}`, type: type as SpMetric['type'], value })) }));
    decoded.metrics.forEach((m, i) => {
      const value = m.value();
      const want = cases[i]?.[1];
      if (want instanceof Uint8Array) expect(Buffer.from(value as Uint8Array).equals(Buffer.from(want))).toBe(true);
      else expect(value).toEqual(want);
    });
  });

  it('reads a UInt32 from int_value too (other encoders follow the spec table)', () => {
    const bytes = encodePayload({ metrics: [{ name: 'u', type: DataType.UInt16, value: 65535, writeDatatype: false }] });
    expect(decodePayload(bytes).metrics[0]?.value(DataType.UInt32)).toBe(65535);
  });

  it('needs a type hint for a DATA-style metric without datatype', () => {
    const bytes = encodePayload({ metrics: [{ alias: 3, type: DataType.Double, writeDatatype: false, value: 4.25 }] });
    const m = decodePayload(bytes).metrics[0];
    expect(m?.alias).toBe(3n);
    expect(m?.value()).toBeUndefined();
    expect(m?.value(DataType.Double)).toBe(4.25);
  });

  it('throws on malformed bytes instead of returning garbage', () => {
    expect(() => decodePayload(new Uint8Array([0x12, 0xff, 0xff, 0xff, 0xff, 0x0f]))).toThrow();
  });
});
