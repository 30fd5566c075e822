// Sparkplug array datatypes (22-34) travel packed in bytes_value (spec 6.4.17): fixed-width
// little-endian elements; BooleanArray is a 4-byte LE count then bits MSB-first; StringArray
// is NUL-terminated UTF-8 strings; DateTimeArray is int64 LE epoch milliseconds.
import { DataType, type DataTypeCode } from './datatypes.js';

export type ArrayValue = number[] | bigint[] | boolean[] | string[];

const WIDTH: Partial<Record<DataTypeCode, number>> = {
  [DataType.Int8Array]: 1,
  [DataType.UInt8Array]: 1,
  [DataType.Int16Array]: 2,
  [DataType.UInt16Array]: 2,
  [DataType.Int32Array]: 4,
  [DataType.UInt32Array]: 4,
  [DataType.FloatArray]: 4,
  [DataType.Int64Array]: 8,
  [DataType.UInt64Array]: 8,
  [DataType.DoubleArray]: 8,
  [DataType.DateTimeArray]: 8,
};

export function packArray(type: DataTypeCode, values: ArrayValue): Uint8Array {
  if (type === DataType.BooleanArray) {
    const bools = values as boolean[];
    const out = Buffer.alloc(4 + Math.ceil(bools.length / 8));
    out.writeUInt32LE(bools.length, 0);
    bools.forEach((b, i) => {
      if (b) out[4 + (i >> 3)] = (out[4 + (i >> 3)] ?? 0) | (0x80 >> (i & 7));
    });
    return out;
  }
  if (type === DataType.StringArray) {
    return Buffer.concat((values as string[]).flatMap((s) => [Buffer.from(s, 'utf8'), Buffer.from([0])]));
  }
  const width = WIDTH[type];
  if (width === undefined) throw new Error(`datatype ${type} is not an array type`);
  const out = Buffer.alloc(width * values.length);
  values.forEach((v, i) => {
    const o = i * width;
    switch (type) {
      case DataType.Int8Array: out.writeInt8(Number(v), o); break;
      case DataType.UInt8Array: out.writeUInt8(Number(v), o); break;
      case DataType.Int16Array: out.writeInt16LE(Number(v), o); break;
      case DataType.UInt16Array: out.writeUInt16LE(Number(v), o); break;
      case DataType.Int32Array: out.writeInt32LE(Number(v), o); break;
      case DataType.UInt32Array: out.writeUInt32LE(Number(v), o); break;
      case DataType.FloatArray: out.writeFloatLE(Number(v), o); break;
      case DataType.DoubleArray: out.writeDoubleLE(Number(v), o); break;
      case DataType.Int64Array:
      case DataType.DateTimeArray: out.writeBigInt64LE(BigInt(v as number | bigint), o); break;
      case DataType.UInt64Array: out.writeBigUInt64LE(BigInt(v as number | bigint), o); break;
    }
  });
  return out;
}

export function unpackArray(type: DataTypeCode, bytes: Uint8Array): ArrayValue {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (type === DataType.BooleanArray) {
    const n = b.readUInt32LE(0);
    return Array.from({ length: n }, (_, i) => ((b[4 + (i >> 3)] ?? 0) & (0x80 >> (i & 7))) !== 0);
  }
  if (type === DataType.StringArray) {
    const parts = b.toString('utf8').split('\0');
    parts.pop(); // the last terminator leaves an empty tail
    return parts;
  }
  const width = WIDTH[type];
  if (width === undefined) throw new Error(`datatype ${type} is not an array type`);
  if (b.length % width !== 0) throw new Error(`array of datatype ${type}: ${b.length} bytes is not a multiple of ${width}`);
  const n = b.length / width;
  const read = (i: number): number | bigint => {
    const o = i * width;
    switch (type) {
      case DataType.Int8Array: return b.readInt8(o);
      case DataType.UInt8Array: return b.readUInt8(o);
      case DataType.Int16Array: return b.readInt16LE(o);
      case DataType.UInt16Array: return b.readUInt16LE(o);
      case DataType.Int32Array: return b.readInt32LE(o);
      case DataType.UInt32Array: return b.readUInt32LE(o);
      case DataType.FloatArray: return b.readFloatLE(o);
      case DataType.DoubleArray: return b.readDoubleLE(o);
      case DataType.Int64Array: return b.readBigInt64LE(o);
      case DataType.DateTimeArray: return Number(b.readBigInt64LE(o));
      default: return b.readBigUInt64LE(o);
    }
  };
  return Array.from({ length: n }, (_, i) => read(i)) as ArrayValue;
}
