// Register codec: Modbus values travel as 16-bit registers; devices disagree on the order of
// the bytes inside a register and of the registers inside a value. This module turns registers
// into typed values and back, and nothing else (no I/O, no config).
//
// Byte-order names follow the usual field notation for a 32-bit value whose big-endian bytes
// are A B C D; longer values extend the same two independent choices:
//   ABCD  big-endian words, big-endian bytes in a word (the Modbus spec's own order)
//   BADC  big-endian words, bytes swapped inside every word
//   CDAB  word order reversed (low word first), big-endian bytes in a word
//   DCBA  both reversed: plain little-endian
// For one register only the byte swap matters (ABCD = CDAB, BADC = DCBA).
import { FieldgateError } from '../../src/errors.js';
import type { TagValue } from '../../src/runtime/types.js';

export const BYTE_ORDERS = ['ABCD', 'BADC', 'CDAB', 'DCBA'] as const;
export type ByteOrder = (typeof BYTE_ORDERS)[number];

export const REGISTER_TYPES = [
  'bool', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float32', 'float64', 'string',
] as const;
export type RegisterType = (typeof REGISTER_TYPES)[number];

export interface ValueLayout {
  type: RegisterType;
  byteOrder: ByteOrder;
  /** bool in a register: the bit number (0 = least significant); absent means "register != 0". */
  bit?: number | undefined;
  /** string: number of registers (two ASCII characters each). */
  length?: number | undefined;
}

const WIDTH: Record<Exclude<RegisterType, 'string'>, number> = {
  bool: 1, int16: 1, uint16: 1, int32: 2, uint32: 2, float32: 2, int64: 4, uint64: 4, float64: 4,
};

/** How many registers a value of this layout occupies. */
export function registerCount(layout: Pick<ValueLayout, 'type' | 'length'>): number {
  if (layout.type === 'string') return layout.length ?? 1;
  return WIDTH[layout.type];
}

function swapsBytes(order: ByteOrder): boolean {
  return order === 'BADC' || order === 'DCBA';
}

function swapsWords(order: ByteOrder): boolean {
  return order === 'CDAB' || order === 'DCBA';
}

/** Registers as the device sent them → the value's big-endian bytes. */
export function registersToBytes(registers: readonly number[], order: ByteOrder, wordSwap = swapsWords(order)): Buffer {
  const words = wordSwap ? [...registers].reverse() : registers;
  const buf = Buffer.alloc(words.length * 2);
  words.forEach((w, i) => {
    if (swapsBytes(order)) buf.writeUInt16LE(w & 0xffff, i * 2);
    else buf.writeUInt16BE(w & 0xffff, i * 2);
  });
  return buf;
}

/** The value's big-endian bytes → registers as the device expects them. */
export function bytesToRegisters(bytes: Buffer, order: ByteOrder, wordSwap = swapsWords(order)): number[] {
  const words: number[] = [];
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    words.push(swapsBytes(order) ? bytes.readUInt16LE(i) : bytes.readUInt16BE(i));
  }
  return wordSwap ? words.reverse() : words;
}

function wrongLength(layout: ValueLayout, got: number): FieldgateError {
  return new FieldgateError(
    'FG_ERR_MODBUS_DECODE',
    `${layout.type} needs ${registerCount(layout)} register(s), got ${got}`,
  );
}

/** Decode the registers of one value (exactly `registerCount(layout)` of them). */
export function decodeRegisters(registers: readonly number[], layout: ValueLayout): TagValue {
  if (registers.length !== registerCount(layout)) throw wrongLength(layout, registers.length);
  if (layout.type === 'bool') {
    const word = registers[0] ?? 0;
    return layout.bit === undefined ? word !== 0 : ((word >> layout.bit) & 1) === 1;
  }
  if (layout.type === 'string') {
    // Word order has no meaning for text: characters run from the first register onwards.
    const bytes = registersToBytes(registers, layout.byteOrder, false);
    const nul = bytes.indexOf(0);
    return bytes.subarray(0, nul === -1 ? bytes.length : nul).toString('latin1');
  }
  const b = registersToBytes(registers, layout.byteOrder);
  switch (layout.type) {
    case 'int16': return b.readInt16BE(0);
    case 'uint16': return b.readUInt16BE(0);
    case 'int32': return b.readInt32BE(0);
    case 'uint32': return b.readUInt32BE(0);
    case 'float32': return b.readFloatBE(0);
    case 'int64': return b.readBigInt64BE(0);
    case 'uint64': return b.readBigUInt64BE(0);
    case 'float64': return b.readDoubleBE(0);
  }
}

const INT_RANGE: Record<string, [bigint, bigint]> = {
  int16: [-(2n ** 15n), 2n ** 15n - 1n],
  uint16: [0n, 2n ** 16n - 1n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

function rejected(message: string): FieldgateError {
  return new FieldgateError('FG_ERR_WRITE_REJECTED', message);
}

function toInteger(value: TagValue, type: string): bigint {
  let n: bigint;
  if (typeof value === 'bigint') n = value;
  else if (typeof value === 'boolean') n = value ? 1n : 0n;
  else if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw rejected(`${type} cannot hold ${value}`);
    // The runtime hands over an unscaled value that may carry float noise (12.000000001):
    // round to the nearest integer rather than refusing it.
    n = BigInt(Math.round(value));
  } else if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) n = BigInt(value.trim());
  else throw rejected(`${type} needs a number, got ${typeof value}`);
  const range = INT_RANGE[type];
  if (range !== undefined && (n < range[0] || n > range[1])) {
    throw rejected(`${String(n)} is outside the ${type} range ${String(range[0])}..${String(range[1])}`);
  }
  return n;
}

function toFloat(value: TagValue, type: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  throw rejected(`${type} needs a number, got ${typeof value}`);
}

/** A coil or a bit from a command: true/false, a number (non-zero is on) or "on"/"off" text. */
export function toBool(value: TagValue): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (Number.isNaN(value)) throw rejected('a bool cannot be NaN');
    return value !== 0;
  }
  if (typeof value === 'bigint') return value !== 0n;
  if (typeof value === 'string') {
    const t = value.trim().toLowerCase();
    if (t === 'true' || t === 'on' || t === '1') return true;
    if (t === 'false' || t === 'off' || t === '0') return false;
  }
  throw rejected(`"${String(value)}" is not a bool (true/false, on/off, 1/0)`);
}

/**
 * Encode a value into registers. For a bool with a `bit`, `current` is the register as last
 * read: only that bit changes (read-modify-write), because the other bits belong to other tags.
 */
export function encodeValue(value: TagValue, layout: ValueLayout, current?: number): number[] {
  const n = registerCount(layout);
  if (layout.type === 'bool') {
    const on = toBool(value);
    if (layout.bit === undefined) return [on ? 1 : 0];
    const mask = 1 << layout.bit;
    const base = current ?? 0;
    return [on ? (base | mask) & 0xffff : base & ~mask & 0xffff];
  }
  if (layout.type === 'string') {
    const text = typeof value === 'string' ? value : String(value);
    // The field is plain ASCII; anything else would be mangled by the device's display.
    if (!/^[\x20-\x7e]*$/.test(text)) throw rejected('a Modbus string holds printable ASCII only');
    if (text.length > 2 * n) throw rejected(`"${text}" is ${text.length} characters; the tag holds ${2 * n}`);
    const bytes = Buffer.alloc(2 * n);
    bytes.write(text, 'latin1');
    return bytesToRegisters(bytes, layout.byteOrder, false);
  }
  const b = Buffer.alloc(2 * n);
  switch (layout.type) {
    case 'int16': b.writeInt16BE(Number(toInteger(value, layout.type))); break;
    case 'uint16': b.writeUInt16BE(Number(toInteger(value, layout.type))); break;
    case 'int32': b.writeInt32BE(Number(toInteger(value, layout.type))); break;
    case 'uint32': b.writeUInt32BE(Number(toInteger(value, layout.type))); break;
    case 'int64': b.writeBigInt64BE(toInteger(value, layout.type)); break;
    case 'uint64': b.writeBigUInt64BE(toInteger(value, layout.type)); break;
    case 'float32': {
      const f = toFloat(value, layout.type);
      if (Number.isFinite(f) && Math.abs(f) > 3.4028234663852886e38) throw rejected(`${f} overflows float32`);
      b.writeFloatBE(f);
      break;
    }
    case 'float64': b.writeDoubleBE(toFloat(value, layout.type)); break;
  }
  return bytesToRegisters(b, layout.byteOrder);
}

