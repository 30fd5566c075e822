import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isFieldgateError } from '../../src/errors.js';
import { BYTE_ORDERS, decodeRegisters, encodeValue, registerCount, toBool, type ByteOrder, type RegisterType } from './codec.js';

// Registers computed by Python's struct module (fixtures/gen-codec-fixtures.py), never by the codec.
interface Fixture {
  type: RegisterType;
  byteOrder: ByteOrder;
  value: number | string;
  length?: number;
  registers: number[];
}
const fixtures = JSON.parse(
  readFileSync(new URL('./fixtures/codec-fixtures.json', import.meta.url), 'utf8'),
) as Fixture[];

function expected(f: Fixture): unknown {
  return f.type === 'int64' || f.type === 'uint64' ? BigInt(f.value) : f.value;
}

describe('codec against struct-computed fixtures', () => {
  it('covers every numeric type and string in all four byte orders', () => {
    const seen = new Set(fixtures.map((f) => `${f.type}/${f.byteOrder}`));
    for (const t of ['int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float32', 'float64', 'string']) {
      for (const o of BYTE_ORDERS) expect(seen.has(`${t}/${o}`), `${t}/${o}`).toBe(true);
    }
    expect(fixtures.length).toBeGreaterThan(150);
  });

  for (const f of fixtures) {
    const layout = { type: f.type, byteOrder: f.byteOrder, length: f.length };
    const name = `${f.type} ${f.byteOrder} ${String(f.value)} <-> [${f.registers.map((r) => r.toString(16)).join(' ')}]`;
    it(`decodes ${name}`, () => {
      expect(registerCount(layout)).toBe(f.registers.length);
      expect(decodeRegisters(f.registers, layout)).toStrictEqual(expected(f));
    });
    it(`encodes ${name}`, () => {
      expect(encodeValue(expected(f) as number | bigint | string, layout)).toStrictEqual(f.registers);
    });
  }
});

describe('codec by hand', () => {
  it('float32 1.0 is 0x3F800000: the four orders of one value, worked on paper', () => {
    expect(encodeValue(1, { type: 'float32', byteOrder: 'ABCD' })).toEqual([0x3f80, 0x0000]);
    expect(encodeValue(1, { type: 'float32', byteOrder: 'CDAB' })).toEqual([0x0000, 0x3f80]);
    expect(encodeValue(1, { type: 'float32', byteOrder: 'BADC' })).toEqual([0x803f, 0x0000]);
    expect(encodeValue(1, { type: 'float32', byteOrder: 'DCBA' })).toEqual([0x0000, 0x803f]);
  });

  it('reads one bit of a register, bit 0 being the least significant', () => {
    const reg = [0b1000_0000_0000_0101];
    expect(decodeRegisters(reg, { type: 'bool', byteOrder: 'ABCD', bit: 0 })).toBe(true);
    expect(decodeRegisters(reg, { type: 'bool', byteOrder: 'ABCD', bit: 1 })).toBe(false);
    expect(decodeRegisters(reg, { type: 'bool', byteOrder: 'ABCD', bit: 2 })).toBe(true);
    expect(decodeRegisters(reg, { type: 'bool', byteOrder: 'ABCD', bit: 15 })).toBe(true);
    expect(decodeRegisters([0], { type: 'bool', byteOrder: 'ABCD' })).toBe(false);
    expect(decodeRegisters([0x40], { type: 'bool', byteOrder: 'ABCD' })).toBe(true);
  });

  it('sets and clears one bit and leaves the others alone', () => {
    expect(encodeValue(true, { type: 'bool', byteOrder: 'ABCD', bit: 3 }, 0x8001)).toEqual([0x8009]);
    expect(encodeValue(false, { type: 'bool', byteOrder: 'ABCD', bit: 15 }, 0x8001)).toEqual([0x0001]);
    expect(encodeValue(true, { type: 'bool', byteOrder: 'ABCD' })).toEqual([1]);
  });

  it('string stops at the first NUL and keeps spaces', () => {
    // "AB" "C " "\0\0" in ABCD: 0x4142 0x4320 0x0000
    expect(decodeRegisters([0x4142, 0x4320, 0], { type: 'string', byteOrder: 'ABCD', length: 3 })).toBe('ABC ');
    expect(decodeRegisters([0x4241, 0x2043, 0], { type: 'string', byteOrder: 'BADC', length: 3 })).toBe('ABC ');
  });

  it('rejects values the type cannot hold, with FG_ERR_WRITE_REJECTED', () => {
    const bad: Array<[unknown, RegisterType, number?]> = [
      [32768, 'int16'], [-1, 'uint16'], [2 ** 32, 'uint32'], [-(2 ** 31) - 1, 'int32'],
      [2n ** 64n, 'uint64'], [-1n, 'uint64'], [1e39, 'float32'], ['x', 'float64'], [Number.NaN, 'int32'],
      ['TOO LONG', 'string', 2], ['héllo', 'string', 4],
    ];
    for (const [v, type, length] of bad) {
      let err: unknown;
      try {
        encodeValue(v as never, { type, byteOrder: 'ABCD', length });
      } catch (e) {
        err = e;
      }
      expect(isFieldgateError(err, 'FG_ERR_WRITE_REJECTED'), `${String(v)} as ${type}`).toBe(true);
    }
  });

  it('rounds float noise on integer types instead of refusing it', () => {
    expect(encodeValue(12.000000001, { type: 'int16', byteOrder: 'ABCD' })).toEqual([12]);
    expect(encodeValue(-0.6, { type: 'int16', byteOrder: 'ABCD' })).toEqual([0xffff]);
  });

  it('refuses a register count that does not match the type', () => {
    expect(() => decodeRegisters([1], { type: 'float32', byteOrder: 'ABCD' })).toThrow(/needs 2 register/);
  });

  it('reads a bool command from true/false, numbers and on/off text, and refuses anything else', () => {
    expect([true, 1, 2.5, 1n, 'on', 'TRUE', '1'].map((v) => toBool(v))).toEqual([true, true, true, true, true, true, true]);
    expect([false, 0, 0n, 'off', 'false', ' 0 '].map((v) => toBool(v))).toEqual([false, false, false, false, false, false]);
    for (const v of ['yes please', Number.NaN, '']) expect(() => toBool(v)).toThrow(/bool/);
  });
});
