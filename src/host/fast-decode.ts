// A Sparkplug B payload read straight off the protobuf wire for the host's ingest (issue 14,
// item 3). The generic decoder (src/sparkplug/payload.ts, protobufjs) builds a message object,
// a Long per 64-bit field and a closure per metric, then the host copies it all again: at
// hundreds of thousands of samples a second that was most of the decode cost and much of the
// GC. This walks the bytes once and keeps, per metric, only the fields the host reads. Same
// results as `decodePayload` (test/host/fast-decode.test.ts compares the two on random
// payloads); datasets, templates and metadata are skipped as the host does not store them.
import { unpackArray } from '../sparkplug/arrays.js';
import { DataType, isArrayType, type DataTypeCode } from '../sparkplug/datatypes.js';
import type { DecodedMetric, DecodedPayload, SpValue } from '../sparkplug/payload.js';
import { Reader, TWO32 } from './wire-reader.js';

const F_INT = 1;
const F_LONG = 2;
const F_FLOAT = 4;
const F_DOUBLE = 8;
const F_BOOL = 16;
const F_STRING = 32;
const F_BYTES = 64;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * A metric alias as a Map key: a number when it is below 2^53 (every alias in practice), else
 * the bigint. Same value, same key, whichever decoder read it; no BigInt made and hashed per
 * metric on the ingest path (issue 14 bench: ~50 ns a sample).
 */
export function aliasKey(m: DecodedMetric): number | bigint | undefined {
  if (m instanceof FastMetric) return m.aliasKey;
  const a = m.alias;
  return a === undefined ? undefined : a <= MAX_SAFE ? Number(a) : a;
}

/** `aliasKey` of an alias kept as text (a stored catalogue). */
export function aliasKeyOfText(text: string): number | bigint {
  const a = BigInt(text);
  return a <= MAX_SAFE ? Number(a) : a;
}

class FastMetric implements DecodedMetric {
  name?: string;
  /** See `aliasKey()`. */
  aliasKey?: number | bigint;
  timestamp?: number;
  datatype?: number;
  isNull = false;
  isHistorical = false;
  quality?: number;
  /** Which value fields were on the wire (F_*). */
  has = 0;
  intValue = 0;
  longLo = 0;
  longHi = 0;
  floatValue = 0;
  doubleValue = 0;
  boolValue = false;
  stringValue = '';
  bytesValue: Uint8Array | undefined;

  get alias(): bigint | undefined {
    const k = this.aliasKey;
    return k === undefined ? undefined : BigInt(k);
  }

  value(type?: DataTypeCode): SpValue | null | undefined {
    if (this.isNull) return null;
    const t = type ?? (this.datatype as DataTypeCode | undefined);
    if (t === undefined) return undefined;
    const h = this.has;
    switch (t) {
      case DataType.Int8:
        return h & F_INT ? (this.intValue << 24) >> 24 : undefined;
      case DataType.Int16:
        return h & F_INT ? (this.intValue << 16) >> 16 : undefined;
      case DataType.Int32:
        return h & F_INT ? this.intValue | 0 : undefined;
      case DataType.UInt8:
      case DataType.UInt16:
        return h & F_INT ? this.intValue >>> 0 : undefined;
      case DataType.UInt32:
        // Either field: the spec table says int_value, the 3.0.0 TCK long_value.
        if (h & F_LONG) return this.longLo >>> 0;
        return h & F_INT ? this.intValue >>> 0 : undefined;
      case DataType.Int64:
        return h & F_LONG ? BigInt.asIntN(64, this.long()) : undefined;
      case DataType.UInt64:
        return h & F_LONG ? this.long() : undefined;
      case DataType.DateTime:
        return h & F_LONG ? Number(BigInt.asIntN(64, this.long())) : undefined;
      case DataType.Float:
        return h & F_FLOAT ? this.floatValue : h & F_DOUBLE ? this.doubleValue : undefined;
      case DataType.Double:
        return h & F_DOUBLE ? this.doubleValue : h & F_FLOAT ? this.floatValue : undefined;
      case DataType.Boolean:
        return h & F_BOOL ? this.boolValue : undefined;
      case DataType.String:
      case DataType.Text:
      case DataType.UUID:
        return h & F_STRING ? this.stringValue : undefined;
      case DataType.Bytes:
      case DataType.File:
        return h & F_BYTES ? (this.bytesValue as Uint8Array) : undefined;
      default:
        if (isArrayType(t) && h & F_BYTES) return unpackArray(t, this.bytesValue as Uint8Array);
        return undefined;
    }
  }

  private long(): bigint {
    return this.longHi < 0x200000 ? BigInt(this.longHi * TWO32 + this.longLo) : (BigInt(this.longHi) << 32n) | BigInt(this.longLo);
  }
}

/** The `Quality` property (spec 6.4.9.1), as `decodePayload` reads it. */
function readQuality(r: Reader, end: number, m: FastMetric): void {
  let qualityAt = -1;
  let keys = 0;
  const values: Array<[number, number]> = [];
  while (r.pos < end) {
    r.varint();
    const tag = r.lo;
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === 2) {
      const n = r.len();
      if (qualityAt < 0 && n === 7 && r.buf.toString('utf8', r.pos, r.pos + n) === 'Quality') qualityAt = keys;
      r.pos += n;
      keys += 1;
    } else if (field === 2 && wire === 2) {
      const n = r.len();
      values.push([r.pos, r.pos + n]);
      r.pos += n;
    } else r.skip(wire);
  }
  const v = qualityAt < 0 ? undefined : values[qualityAt];
  if (v === undefined) return;
  const pr = new Reader(r.buf, v[0], v[1]);
  let q: number | undefined;
  let fromInt = false;
  while (pr.pos < pr.end) {
    pr.varint();
    const field = pr.lo >>> 3;
    const wire = pr.lo & 7;
    if (field === 3 && wire === 0) {
      pr.varint();
      q = pr.lo >>> 0;
      fromInt = true;
    } else if (field === 4 && wire === 0) {
      pr.varint();
      // int_value wins over long_value, as in decodePayload.
      if (!fromInt) q = Number(BigInt.asUintN(64, (BigInt(pr.hi) << 32n) | BigInt(pr.lo)));
    } else pr.skip(wire);
  }
  if (q !== undefined) m.quality = q | 0;
}

function readMetric(r: Reader, end: number): FastMetric {
  const m = new FastMetric();
  const b = r.buf;
  while (r.pos < end) {
    r.varint();
    const tag = r.lo;
    const field = tag >>> 3;
    const wire = tag & 7;
    switch (field) {
      case 1:
        if (wire !== 2) break;
        {
          const n = r.len();
          m.name = b.toString('utf8', r.pos, r.pos + n);
          r.pos += n;
        }
        continue;
      case 2:
        if (wire !== 0) break;
        r.varint();
        m.aliasKey = r.hi < 0x200000 ? r.num() : r.big();
        continue;
      case 3:
        if (wire !== 0) break;
        r.varint();
        m.timestamp = r.num();
        continue;
      case 4:
        if (wire !== 0) break;
        r.varint();
        m.datatype = r.lo >>> 0;
        continue;
      case 5:
        if (wire !== 0) break;
        r.varint();
        m.isHistorical = r.lo !== 0 || r.hi !== 0;
        continue;
      case 7:
        if (wire !== 0) break;
        r.varint();
        m.isNull = r.lo !== 0 || r.hi !== 0;
        continue;
      case 9:
        if (wire !== 2) break;
        {
          const n = r.len();
          const stop = r.pos + n;
          readQuality(r, stop, m);
          r.pos = stop;
        }
        continue;
      case 10:
        if (wire !== 0) break;
        r.varint();
        m.intValue = r.lo >>> 0;
        m.has |= F_INT;
        continue;
      case 11:
        if (wire !== 0) break;
        r.varint();
        m.longLo = r.lo;
        m.longHi = r.hi;
        m.has |= F_LONG;
        continue;
      case 12:
        if (wire !== 5) break;
        m.floatValue = b.readFloatLE(r.fixed(4));
        m.has |= F_FLOAT;
        continue;
      case 13:
        if (wire !== 1) break;
        m.doubleValue = b.readDoubleLE(r.fixed(8));
        m.has |= F_DOUBLE;
        continue;
      case 14:
        if (wire !== 0) break;
        r.varint();
        m.boolValue = r.lo !== 0 || r.hi !== 0;
        m.has |= F_BOOL;
        continue;
      case 15:
        if (wire !== 2) break;
        {
          const n = r.len();
          m.stringValue = b.toString('utf8', r.pos, r.pos + n);
          r.pos += n;
          m.has |= F_STRING;
        }
        continue;
      case 16:
        if (wire !== 2) break;
        {
          const n = r.len();
          m.bytesValue = b.subarray(r.pos, r.pos + n);
          r.pos += n;
          m.has |= F_BYTES;
        }
        continue;
      default:
        break;
    }
    r.skip(wire);
  }
  if (r.pos !== end) throw new RangeError('metric past its end');
  return m;
}

/** Decodes a Sparkplug B payload; throws on malformed bytes, like `decodePayload`. */
export function decodeSparkplugFast(bytes: Buffer): DecodedPayload {
  const r = new Reader(bytes, 0, bytes.length);
  const out: DecodedPayload = { metrics: [] };
  while (r.pos < r.end) {
    r.varint();
    const tag = r.lo;
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === 0) {
      r.varint();
      out.timestamp = r.num();
    } else if (field === 2 && wire === 2) {
      const n = r.len();
      const stop = r.pos + n;
      out.metrics.push(readMetric(r, stop));
    } else if (field === 3 && wire === 0) {
      r.varint();
      out.seq = r.num();
    } else r.skip(wire);
  }
  if (r.pos !== r.end) throw new RangeError('payload past its end');
  return out;
}
