import { describe, expect, it } from 'vitest';
import { commonTagSchema } from '../../src/config/sections/devices.js';
import { toTagValue } from './convert.js';
import { checkNmea, FrameParser, jsonPath, nmeaCoordinate, type SerialTag, type SerialTagExtra } from './parse.js';

function tag(name: string, extra: SerialTagExtra & { type?: string } = {}): SerialTag {
  const { type, ...rest } = extra;
  return { ...commonTagSchema.parse({ name, ...(type !== undefined ? { type } : {}) }), ...rest };
}

const GGA = '$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47';

describe('serial frame parsing', () => {
  it('regex: named and numbered groups become tags, typed', () => {
    const p = new FrameParser({ kind: 'regex', pattern: '^(ST|US),GS,(?<weight>[+-]\\s*[\\d.]+)\\s*(?<unit>\\w+)$', flags: '' }, 'none', [
      tag('weight', { group: 'weight' }),
      tag('stable', { group: 1, type: 'string' }),
      tag('unit', { group: 'unit', type: 'string' }),
    ]);
    expect(p.parse('ST,GS,+  12.50 kg')).toEqual({
      ok: true,
      readings: [
        { tag: 'weight', value: 12.5, quality: 'GOOD' },
        { tag: 'stable', value: 'ST', quality: 'GOOD' },
        { tag: 'unit', value: 'kg', quality: 'GOOD' },
      ],
    });
    const bad = p.parse('OL,GS,------ kg');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error).toMatch(/does not match/);
  });

  it('csv: columns by index; a missing column or a non-number is BAD for that tag only', () => {
    const p = new FrameParser({ kind: 'csv', separator: ';', trim: true }, 'none', [
      tag('t', { column: 0 }),
      tag('rh', { column: 1, type: 'uint16' }),
      tag('gone', { column: 7 }),
    ]);
    const r = p.parse(' 21.5 ; 45 ');
    expect(r).toEqual({
      ok: true,
      readings: [
        { tag: 't', value: 21.5, quality: 'GOOD' },
        { tag: 'rh', value: 45, quality: 'GOOD' },
        { tag: 'gone', value: null, quality: 'BAD', error: 'field missing from the frame' },
      ],
    });
    const r2 = p.parse('abc;70000');
    expect(r2.ok && r2.readings.map((x) => x.quality)).toEqual(['BAD', 'BAD', 'BAD']);
    expect(r2.ok && r2.readings[1]?.error).toMatch(/does not fit uint16/);
  });

  it('json: dotted paths with array indexes; an object is not a value; non-JSON is a parse error', () => {
    const doc = { data: { values: [{ v: 1 }, { v: 2.5 }], ok: true }, id: 'A7' };
    expect(jsonPath(doc, 'data.values[1].v')).toBe(2.5);
    expect(jsonPath(doc, 'data.missing.x')).toBeUndefined();
    expect(jsonPath(doc, 'data.values')).toEqual({ error: expect.stringMatching(/object or array/) });
    const p = new FrameParser({ kind: 'json' }, 'none', [tag('v', { path: 'data.values[1].v' }), tag('ok', { path: 'data.ok', type: 'bool' }), tag('id', { path: 'id', type: 'string' })]);
    const r = p.parse(JSON.stringify(doc));
    expect(r.ok && r.readings.map((x) => x.value)).toEqual([2.5, true, 'A7']);
    const bad = p.parse('{"data": ');
    expect(bad).toMatchObject({ ok: false, reason: 'parse' });
  });

  it('nmea: the XOR checksum is verified and stripped; a corrupted sentence is a checksum error', () => {
    expect(checkNmea(GGA)).toEqual({ body: GGA.slice(1, -3) });
    expect(checkNmea(GGA.replace('545.4', '545.5'))).toEqual({ error: 'checksum mismatch: sentence says 47, bytes give 46' });
    expect(checkNmea('$GPGGA,1,2')).toEqual({ error: 'no *HH checksum at the end of the sentence' });
    const p = new FrameParser({ kind: 'csv', separator: ',', trim: true }, 'nmea', [
      tag('lat', { column: 2, format: 'nmea-coordinate', when: '^GPGGA' }),
      tag('lon', { column: 4, format: 'nmea-coordinate', when: '^GPGGA' }),
      tag('sats', { column: 7, type: 'uint8', when: '^GPGGA' }),
      tag('speed', { column: 7, when: '^GPRMC' }),
    ]);
    const r = p.parse(GGA);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    // Only the GGA tags: the RMC tag is left alone by a GGA sentence.
    expect(r.readings.map((x) => x.tag)).toEqual(['lat', 'lon', 'sats']);
    expect(r.readings[0]?.value).toBeCloseTo(48.1173, 4);
    expect(r.readings[1]?.value).toBeCloseTo(11.516667, 5);
    expect(r.readings[2]?.value).toBe(8);
    expect(p.parse(GGA.replace('*47', '*00'))).toMatchObject({ ok: false, reason: 'checksum' });
  });

  it('nmea coordinates: south and west are negative; junk is an error', () => {
    expect(nmeaCoordinate('3345.000', 'S')).toBeCloseTo(-33.75, 6);
    expect(nmeaCoordinate('15112.600', 'W')).toBeCloseTo(-151.21, 6);
    expect(nmeaCoordinate('12', 'N')).toEqual({ error: expect.stringMatching(/not an NMEA/) });
    expect(nmeaCoordinate('4807.038', '')).toEqual({ error: expect.stringMatching(/hemisphere/) });
  });

  it('type conversion is strict: signs and padding are fine, guesses are not', () => {
    expect(toTagValue('+  12.50', 'float64')).toBe(12.5);
    expect(toTagValue('-0003', 'int16')).toBe(-3);
    expect(toTagValue('12.5', 'int16')).toEqual({ error: '"12.5" is not an integer' });
    expect(toTagValue('', 'float64')).toEqual({ error: '"" is not a number' });
    expect(toTagValue('9223372036854775807', 'int64')).toBe(9223372036854775807n);
    expect(toTagValue('-1', 'uint8')).toEqual({ error: '-1 does not fit uint8' });
    expect(toTagValue('ON', 'bool')).toBe(true);
    expect(toTagValue('maybe', 'bool')).toMatchObject({ error: expect.stringMatching(/not a boolean/) });
    expect(toTagValue('2026-01-02T03:04:05Z', 'datetime')).toBe(Date.UTC(2026, 0, 2, 3, 4, 5));
    expect(toTagValue(42, 'string')).toBe('42');
  });
});
