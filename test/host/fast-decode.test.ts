// The host's wire decoder (src/host/fast-decode.ts) against the generic one on random
// payloads of every scalar and array datatype, nulls, properties, aliases, 64-bit extremes.
import { describe, expect, it } from 'vitest';
import { decodeSparkplugFast } from '../../src/host/fast-decode.js';
import { DataType, type DataTypeCode } from '../../src/sparkplug/datatypes.js';
import { appendSparkplugDedupField } from '../../src/bridge/dedup-key.js';
import { decodePayload, encodePayload, type SpMetric, type SpValue } from '../../src/sparkplug/payload.js';

let seed = 12345;
const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;

function valueOf(t: DataTypeCode): SpValue {
  switch (t) {
    case DataType.Int8: return pick([-128, -1, 0, 5, 127]);
    case DataType.Int16: return pick([-32768, -2, 0, 300, 32767]);
    case DataType.Int32: return pick([-(2 ** 31), -7, 0, 70000, 2 ** 31 - 1]);
    case DataType.UInt8: return pick([0, 1, 255]);
    case DataType.UInt16: return pick([0, 65535, 1234]);
    case DataType.UInt32: return pick([0, 2 ** 32 - 1, 123456]);
    case DataType.Int64: return pick([-(2n ** 63n), -1n, 0n, 9_007_199_254_740_993n, 2n ** 63n - 1n]);
    case DataType.UInt64: return pick([0n, 2n ** 64n - 1n, 2n ** 53n + 1n, 42n]);
    case DataType.Float: return pick([0, 1.5, -3.25, 1e10]);
    case DataType.Double: return pick([0, Math.PI, -1e300, 5e-324]);
    case DataType.Boolean: return pick([true, false]);
    case DataType.DateTime: return pick([0, 1_700_000_000_123, Date.now()]);
    case DataType.Bytes: return new Uint8Array([1, 2, 3, Math.floor(rnd() * 255)]);
    case DataType.DoubleArray: return [1.5, -2, rnd()];
    case DataType.Int64Array: return [1n, -(2n ** 63n), 5n];
    case DataType.BooleanArray: return [true, false, true];
    case DataType.StringArray: return ['a', 'bé', ''];
    default: return pick(['', 'plain', 'ünïcødé ✓', 'x'.repeat(300)]);
  }
}

const TYPES: DataTypeCode[] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17, 25, 31, 32, 33] as DataTypeCode[];

describe('decodeSparkplugFast', () => {
  it('reads what decodePayload reads, for 500 random payloads', () => {
    for (let n = 0; n < 500; n++) {
      const metrics: SpMetric[] = [];
      const count = Math.floor(rnd() * 8);
      for (let i = 0; i < count; i++) {
        const type = pick(TYPES);
        const m: SpMetric = { type, value: rnd() < 0.1 ? null : valueOf(type) };
        if (rnd() < 0.7) m.name = `m/${i}`;
        if (rnd() < 0.6) m.alias = pick([0n, 1n, 2n ** 40n, 2n ** 63n + 5n]);
        if (rnd() < 0.7) m.timestamp = pick([0, 1_700_000_000_000 + i, 2 ** 52]);
        if (rnd() < 0.5) m.writeDatatype = false;
        if (rnd() < 0.2) m.isHistorical = true;
        if (rnd() < 0.3) m.properties = rnd() < 0.5 ? { Quality: { type: DataType.Int32, value: pick([0, 192, 500]) } } : { Other: { type: DataType.String, value: 'x' }, Quality: { type: DataType.Int64, value: 500n } };
        metrics.push(m);
      }
      const encoded = encodePayload({ ...(rnd() < 0.9 ? { timestamp: 1_700_000_000_000 + n } : {}), ...(rnd() < 0.9 ? { seq: n % 256 } : {}), ...(rnd() < 0.2 ? { uuid: 'u-1', body: new Uint8Array([1, 2]) } : {}), metrics });
      // Half of them with the fg dedup key appended, as a fieldgate gateway sends them: an
      // extension field the host must skip (a real gateway's DDATA found this decoder's bug).
      const payload = rnd() < 0.5 ? appendSparkplugDedupField(encoded, { node: 'g/n', epoch: 'e1', seq: n + 1 }) : Buffer.from(encoded);
      const a = decodePayload(payload);
      const b = decodeSparkplugFast(payload);
      expect(b.timestamp).toBe(a.timestamp);
      expect(b.seq).toBe(a.seq);
      expect(b.metrics).toHaveLength(a.metrics.length);
      a.metrics.forEach((ma, i) => {
        const mb = b.metrics[i]!;
        expect([mb.name, mb.alias, mb.timestamp, mb.datatype, mb.isNull, mb.isHistorical, mb.quality]).toEqual([ma.name, ma.alias, ma.timestamp, ma.datatype, ma.isNull, ma.isHistorical, ma.quality]);
        expect(mb.value()).toEqual(ma.value());
        const t = metrics[i]!.type;
        expect(mb.value(t)).toEqual(ma.value(t));
      });
    }
  });

  it('throws on truncated bytes, like the generic decoder', () => {
    const payload = Buffer.from(encodePayload({ timestamp: 1, seq: 0, metrics: [{ name: 'x', type: DataType.Double, value: 1.5 }] }));
    expect(() => decodeSparkplugFast(payload.subarray(0, payload.length - 3))).toThrow();
    expect(() => decodePayload(payload.subarray(0, payload.length - 3))).toThrow();
  });
});
