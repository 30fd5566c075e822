// Values between OPC UA Variants and tag values. Pure: node-opcua's DataType enum numbers are
// fixed by the spec (Part 6, 5.1.2: Boolean=1 ... DiagnosticInfo=25), so they are spelled out
// here instead of importing node-opcua into every site.
import type { TagType, TagValue } from '../../src/runtime/types.js';

export const BuiltinType = {
  Boolean: 1, SByte: 2, Byte: 3, Int16: 4, UInt16: 5, Int32: 6, UInt32: 7, Int64: 8, UInt64: 9,
  Float: 10, Double: 11, String: 12, DateTime: 13, Guid: 14, ByteString: 15, XmlElement: 16,
  NodeId: 17, ExpandedNodeId: 18, StatusCode: 19, QualifiedName: 20, LocalizedText: 21,
} as const;

const INTEGER_TYPES = new Set<number>([2, 3, 4, 5, 6, 7]);
const INT64_TYPES = new Set<number>([8, 9]);

/** node-opcua carries Int64/UInt64 as [high, low] 32-bit words. */
function fromWords(v: unknown, signed: boolean): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  if (!Array.isArray(v) || v.length !== 2) return undefined;
  const [hi, lo] = v as [number, number];
  const u = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  return signed ? BigInt.asIntN(64, u) : u;
}

export function toWords(v: bigint): [number, number] {
  const u = BigInt.asUintN(64, v);
  return [Number(u >> 32n), Number(u & 0xffffffffn)];
}

/**
 * A Variant's value as the tag's type. Throws with a reason when the node's value cannot be one
 * (an array, a structure, text in a numeric tag); the caller makes the tag BAD.
 */
export function fromVariant(dataType: number, value: unknown, tagType: TagType): TagValue {
  if (value === null || value === undefined) throw new Error('the node has no value');
  if (Array.isArray(value) && !INT64_TYPES.has(dataType)) throw new Error('the node holds an array; map one element per tag is not supported');
  if (ArrayBuffer.isView(value) && dataType !== BuiltinType.ByteString) throw new Error('the node holds an array');
  let v: unknown = value;
  if (INT64_TYPES.has(dataType)) v = fromWords(value, dataType === BuiltinType.Int64);
  else if (dataType === BuiltinType.DateTime && value instanceof Date) v = value.getTime();
  else if (dataType === BuiltinType.LocalizedText) v = (value as { text?: string }).text ?? '';
  else if (dataType === BuiltinType.StatusCode || dataType === BuiltinType.NodeId || dataType === BuiltinType.QualifiedName || dataType === BuiltinType.Guid) v = String(value);
  return coerce(v, tagType);
}

function coerce(v: unknown, type: TagType): TagValue {
  switch (type) {
    case 'bool':
      if (typeof v === 'boolean') return v;
      if (typeof v === 'number' || typeof v === 'bigint') return v !== 0 && v !== 0n;
      throw new Error(`cannot read ${typeof v} as bool`);
    case 'string':
      return typeof v === 'string' ? v : String(v);
    case 'bytes':
      if (v instanceof Uint8Array) return new Uint8Array(v);
      throw new Error('the node is not a ByteString');
    case 'int64':
    case 'uint64':
      if (typeof v === 'bigint') return v;
      if (typeof v === 'number' && Number.isFinite(v)) return BigInt(Math.round(v));
      if (typeof v === 'boolean') return v ? 1n : 0n;
      throw new Error(`cannot read ${typeof v} as ${type}`);
    default: {
      const n = typeof v === 'bigint' ? Number(v) : typeof v === 'boolean' ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isFinite(n)) throw new Error(`cannot read ${typeof v} as ${type}`);
      return type === 'float32' || type === 'float64' || type === 'datetime' ? n : Math.round(n);
    }
  }
}

/** The value for a Write, shaped for the node's built-in data type (read from the server). */
export function toVariantValue(dataType: number, value: TagValue): unknown {
  if (dataType === BuiltinType.Boolean) {
    if (typeof value === 'boolean') return value;
    if (typeof value === 'number' || typeof value === 'bigint') return value !== 0 && value !== 0n;
  } else if (INTEGER_TYPES.has(dataType)) {
    const n = typeof value === 'bigint' ? Number(value) : typeof value === 'boolean' ? Number(value) : value;
    if (typeof n === 'number' && Number.isInteger(n)) return n;
  } else if (INT64_TYPES.has(dataType)) {
    const b = typeof value === 'bigint' ? value : typeof value === 'number' && Number.isInteger(value) ? BigInt(value) : undefined;
    if (b !== undefined) return toWords(b);
  } else if (dataType === BuiltinType.Float || dataType === BuiltinType.Double) {
    const n = typeof value === 'bigint' ? Number(value) : typeof value === 'boolean' ? Number(value) : value;
    if (typeof n === 'number') return n;
  } else if (dataType === BuiltinType.String) {
    if (typeof value === 'string') return value;
  } else if (dataType === BuiltinType.DateTime) {
    if (typeof value === 'number') return new Date(value);
  } else if (dataType === BuiltinType.ByteString) {
    if (value instanceof Uint8Array) return Buffer.from(value);
  } else {
    throw new Error(`writing to a node of data type ${dataType} is not supported`);
  }
  throw new Error(`a ${typeof value} cannot be written to a node of data type ${nameOf(dataType)}`);
}

export function nameOf(dataType: number): string {
  return Object.entries(BuiltinType).find(([, n]) => n === dataType)?.[0] ?? `#${dataType}`;
}
