// A Sparkplug value in a history column and back (issue 14: "value in its Sparkplug type").
// Integers stay exact (64-bit INTEGER, read back as bigint), reals stay REAL, booleans are 0/1,
// strings TEXT, bytes BLOB, arrays JSON text; the series' datatype says how to read it.
import { DataType, isArrayType, type DataTypeCode } from '../sparkplug/datatypes.js';
import type { SpValue } from '../sparkplug/payload.js';

export type Column = number | bigint | string | Buffer | null;

const INT64_MAX = (1n << 63n) - 1n;

export function toColumn(datatype: number, v: SpValue | null): Column {
  if (v === null) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') return v > INT64_MAX ? v.toString() : v;
  if (typeof v === 'number' || typeof v === 'string') return v;
  if (v instanceof Uint8Array) return isArrayType(datatype as DataTypeCode) ? JSON.stringify(Array.from(v)) : Buffer.from(v);
  return JSON.stringify(Array.from(v as ArrayLike<unknown>, (x) => (typeof x === 'bigint' ? x.toString() : x)));
}

/** The column as a JSON value: exact integers become numbers when safe, else decimal strings. */
export function toJsonValue(datatype: number, c: Column): unknown {
  if (c === null) return null;
  if (datatype === DataType.Boolean) return Number(c) === 1;
  if (typeof c === 'bigint') return c >= BigInt(Number.MIN_SAFE_INTEGER) && c <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(c) : c.toString();
  if (Buffer.isBuffer(c)) return c.toString('base64');
  if (typeof c === 'string' && isArrayType(datatype as DataTypeCode)) {
    try {
      return JSON.parse(c) as unknown;
    } catch {
      return c;
    }
  }
  if (datatype === DataType.UInt64 && typeof c === 'string') return c;
  return c;
}
