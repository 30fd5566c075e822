// Sparkplug B payload encoding and decoding on the protobufjs code generated from the official
// sparkplug_b.proto (shipped in sparkplug-payload). Its wrapper is not used: it always writes
// the datatype (the spec says DATA should not), drops array types, and loses precision above
// 2^53 (see docs/sparkplug.md).
import { createRequire } from 'node:module';
import type { org } from 'sparkplug-payload/lib/sparkplugPayloadProto.js';
import { packArray, unpackArray, type ArrayValue } from './arrays.js';
import { DataType, isArrayType, valueField, type DataTypeCode } from './datatypes.js';

type Proto = typeof org.eclipse.tahu.protobuf;
type IMetric = org.eclipse.tahu.protobuf.Payload.IMetric;
type IPropertyValue = org.eclipse.tahu.protobuf.Payload.IPropertyValue;

// The generated module is CommonJS that registers itself in protobufjs' default root.
const require = createRequire(import.meta.url);
const proto = (require('sparkplug-payload/lib/sparkplugPayloadProto.js') as { org: typeof org }).org.eclipse.tahu.protobuf as Proto;

export type SpValue = number | bigint | boolean | string | Uint8Array | ArrayValue;

export interface SpProperty {
  type: DataTypeCode;
  value: number | bigint | boolean | string | null;
}

export interface SpMetric {
  name?: string | undefined;
  alias?: number | bigint | undefined;
  timestamp?: number | undefined;
  /** Decides the value field; written to the wire only when `writeDatatype` is not false. */
  type: DataTypeCode;
  /** Births carry the datatype; DATA should not [tck-id-payloads-metric-datatype-not-req]. */
  writeDatatype?: boolean;
  value: SpValue | null;
  isHistorical?: boolean;
  isTransient?: boolean;
  properties?: Record<string, SpProperty>;
}

export interface SpPayload {
  timestamp?: number | undefined;
  seq?: number | undefined;
  metrics: SpMetric[];
  uuid?: string;
  body?: Uint8Array;
}

type Long = NonNullable<IMetric['timestamp']>;

/**
 * A 64-bit value for protobufjs' uint64 writer, built from a bigint so that nothing above 2^53
 * is rounded (protobufjs reads `low`/`high` of any object; negatives become two's complement).
 */
function toLong(v: number | bigint, unsigned: boolean): Long {
  const u = BigInt.asUintN(64, BigInt(v));
  return { low: Number(u & 0xffffffffn) | 0, high: Number(u >> 32n) | 0, unsigned } as unknown as Long;
}

function setValue(target: IMetric | IPropertyValue, type: DataTypeCode, value: SpValue): void {
  const field = valueField(type);
  switch (field) {
    case 'intValue':
      // int_value is uint32: negative Int8/16/32 travel as 32-bit two's complement (spec 6.4.16).
      target.intValue = Number(value) >>> 0;
      return;
    case 'longValue':
      target.longValue = toLong(typeof value === 'bigint' ? value : Math.trunc(Number(value)), type !== DataType.Int64);
      return;
    case 'floatValue':
    case 'doubleValue':
      target[field] = Number(value);
      return;
    case 'booleanValue':
      target.booleanValue = Boolean(value);
      return;
    case 'stringValue':
      target.stringValue = String(value);
      return;
    case 'bytesValue':
      if (!isMetricTarget(target)) throw new Error('bytes are not a property value');
      (target as IMetric).bytesValue = isArrayType(type) ? packArray(type, value as ArrayValue) : (value as Uint8Array);
      return;
    default:
      throw new Error(`cannot encode a value of datatype ${type}`);
  }
}

function isMetricTarget(t: IMetric | IPropertyValue): t is IMetric {
  return !('type' in t);
}

export function encodePayload(p: SpPayload): Uint8Array {
  const metrics: IMetric[] = p.metrics.map((m) => {
    const out: IMetric = {};
    if (m.name !== undefined) out.name = m.name;
    if (m.alias !== undefined) out.alias = toLong(m.alias, true);
    if (m.timestamp !== undefined) out.timestamp = toLong(m.timestamp, true);
    if (m.writeDatatype !== false) out.datatype = m.type;
    if (m.isHistorical === true) out.isHistorical = true;
    if (m.isTransient === true) out.isTransient = true;
    if (m.value === null) out.isNull = true;
    else setValue(out, m.type, m.value);
    if (m.properties !== undefined) {
      const keys = Object.keys(m.properties);
      out.properties = {
        keys,
        values: keys.map((k) => {
          const prop = m.properties?.[k] as SpProperty;
          const pv: IPropertyValue = { type: prop.type };
          if (prop.value === null) pv.isNull = true;
          else setValue(pv, prop.type, prop.value);
          return pv;
        }),
      };
    }
    return out;
  });
  const message: org.eclipse.tahu.protobuf.IPayload = { metrics };
  if (p.timestamp !== undefined) message.timestamp = toLong(p.timestamp, true);
  if (p.seq !== undefined) message.seq = toLong(p.seq, true);
  if (p.uuid !== undefined) message.uuid = p.uuid;
  if (p.body !== undefined) message.body = p.body;
  return proto.Payload.encode(message).finish();
}

export interface DecodedMetric {
  name?: string;
  alias?: bigint;
  timestamp?: number;
  datatype?: number;
  isNull: boolean;
  isHistorical: boolean;
  /** The `Quality` property (spec 6.4.9.1: 0 bad, 192 good, 500 uncertain) when present. */
  quality?: number;
  /** The value read with `type` (or the metric's own datatype); undefined when neither is known. */
  value(type?: DataTypeCode): SpValue | null | undefined;
}

export interface DecodedPayload {
  timestamp?: number;
  seq?: number;
  metrics: DecodedMetric[];
}

type LongLike = { toString(): string };
const bigOf = (v: number | LongLike | null | undefined): bigint | undefined => {
  if (v === null || v === undefined) return undefined;
  // Fast path for the usual Long below 2^53 (aliases, timestamps): Long.toString() divides
  // its way through the digits and was 8% of the host's ingest profile (issue 14).
  const l = v as { low?: number; high?: number };
  if (typeof l.low === 'number' && typeof l.high === 'number' && l.high >= 0 && l.high < 0x200000) return BigInt(l.high * 4294967296 + (l.low >>> 0));
  return BigInt(v.toString());
};


/** Decodes commands from hosts (NCMD/DCMD) and STATE-less payloads; throws on malformed bytes. */
export function decodePayload(bytes: Uint8Array): DecodedPayload {
  const msg = proto.Payload.decode(bytes);
  const ts = bigOf(msg.timestamp);
  const seq = bigOf(msg.seq);
  return {
    ...(ts !== undefined && msg.timestamp !== null && msg.hasOwnProperty('timestamp') ? { timestamp: Number(ts) } : {}),
    ...(seq !== undefined && msg.hasOwnProperty('seq') ? { seq: Number(seq) } : {}),
    metrics: msg.metrics.map((m) => {
      // Built field by field, not with conditional spreads: each spread allocated a throwaway
      // object per metric, and the host decodes hundreds of thousands a second (issue 14).
      const out: DecodedMetric = {
        isNull: m.isNull === true,
        isHistorical: m.isHistorical === true,
        value(type?: DataTypeCode): SpValue | null | undefined {
          if (m.isNull === true) return null;
          const t = (type ?? (m.hasOwnProperty('datatype') ? m.datatype : undefined)) as DataTypeCode | undefined;
          if (t === undefined) return undefined;
          return readValue(m, t);
        },
      };
      // Generated messages answer unset fields with the proto default (''): ask the instance.
      if (m.hasOwnProperty('name') && typeof m.name === 'string') out.name = m.name;
      if (m.hasOwnProperty('alias')) {
        const alias = bigOf(m.alias);
        if (alias !== undefined) out.alias = alias;
      }
      if (m.hasOwnProperty('timestamp')) {
        const timestamp = bigOf(m.timestamp);
        if (timestamp !== undefined) out.timestamp = Number(timestamp);
      }
      if (typeof m.datatype === 'number' && m.hasOwnProperty('datatype')) out.datatype = m.datatype;
      if (m.properties !== undefined && m.properties !== null) {
        const q = qualityOf(m).quality;
        if (q !== undefined) out.quality = q;
      }
      return out;
    }),
  };
}

/** The metric's Quality property: `fieldgate watch` prints it, the host's history stores it. */
function qualityOf(m: org.eclipse.tahu.protobuf.Payload.IMetric): { quality?: number } {
  const keys = m.properties?.keys;
  if (keys === undefined || keys === null) return {};
  const i = keys.indexOf('Quality');
  const v = i < 0 ? undefined : m.properties?.values?.[i];
  if (v === undefined || v === null) return {};
  const n = Object.prototype.hasOwnProperty.call(v, 'intValue') ? v.intValue : Object.prototype.hasOwnProperty.call(v, 'longValue') ? Number(v.longValue) : undefined;
  return typeof n === 'number' ? { quality: n | 0 } : {};
}

function readValue(m: org.eclipse.tahu.protobuf.Payload.IMetric, type: DataTypeCode): SpValue | undefined {
  const has = (f: string) => Object.prototype.hasOwnProperty.call(m, f);
  switch (type) {
    case DataType.Int8:
      return has('intValue') ? ((m.intValue ?? 0) << 24) >> 24 : undefined;
    case DataType.Int16:
      return has('intValue') ? ((m.intValue ?? 0) << 16) >> 16 : undefined;
    case DataType.Int32:
      return has('intValue') ? (m.intValue ?? 0) | 0 : undefined;
    case DataType.UInt8:
    case DataType.UInt16:
      return has('intValue') ? (m.intValue ?? 0) >>> 0 : undefined;
    case DataType.UInt32:
      // Either field: the spec table says int_value, the 3.0.0 TCK long_value.
      if (has('longValue')) return Number(BigInt.asUintN(32, bigOf(m.longValue) ?? 0n));
      return has('intValue') ? (m.intValue ?? 0) >>> 0 : undefined;
    case DataType.Int64:
      return has('longValue') ? BigInt.asIntN(64, bigOf(m.longValue) ?? 0n) : undefined;
    case DataType.UInt64:
      return has('longValue') ? BigInt.asUintN(64, bigOf(m.longValue) ?? 0n) : undefined;
    case DataType.DateTime:
      return has('longValue') ? Number(BigInt.asIntN(64, bigOf(m.longValue) ?? 0n)) : undefined;
    case DataType.Float:
      return has('floatValue') ? (m.floatValue ?? 0) : has('doubleValue') ? (m.doubleValue ?? 0) : undefined;
    case DataType.Double:
      return has('doubleValue') ? (m.doubleValue ?? 0) : has('floatValue') ? (m.floatValue ?? 0) : undefined;
    case DataType.Boolean:
      return has('booleanValue') ? m.booleanValue === true : undefined;
    case DataType.String:
    case DataType.Text:
    case DataType.UUID:
      return has('stringValue') ? (m.stringValue ?? '') : undefined;
    case DataType.Bytes:
    case DataType.File:
      return has('bytesValue') ? (m.bytesValue ?? new Uint8Array()) : undefined;
    default:
      if (isArrayType(type) && has('bytesValue')) return unpackArray(type, m.bytesValue ?? new Uint8Array());
      return undefined;
  }
}
