import { describe, expect, it } from 'vitest';
import { MAX_VARIABLE_BYTE_INTEGER, readVariableByteInteger, variableByteIntegerLength, writeVariableByteInteger } from './variable-byte-integer.js';

// The boundary table of MQTT 5.0 section 1.5.5 (and 3.1.1 section 2.2.3).
const CASES: Array<[number, number[]]> = [
  [0, [0x00]],
  [127, [0x7f]],
  [128, [0x80, 0x01]],
  [16_383, [0xff, 0x7f]],
  [16_384, [0x80, 0x80, 0x01]],
  [2_097_151, [0xff, 0xff, 0x7f]],
  [2_097_152, [0x80, 0x80, 0x80, 0x01]],
  [MAX_VARIABLE_BYTE_INTEGER, [0xff, 0xff, 0xff, 0x7f]],
];

describe('variable byte integer', () => {
  it.each(CASES)('%i is written as the spec table says', (n, bytes) => {
    const b = Buffer.alloc(6, 0xee);
    expect(writeVariableByteInteger(b, 1, n)).toBe(1 + bytes.length);
    expect([...b.subarray(1, 1 + bytes.length)]).toEqual(bytes);
    expect(b[0]).toBe(0xee);
    expect(variableByteIntegerLength(n)).toBe(bytes.length);
    const read = { value: -1, next: -1 };
    expect(readVariableByteInteger(b, 1, b.length, read)).toBe('ok');
    expect(read).toEqual({ value: n, next: 1 + bytes.length });
    // One byte short of its end: not a value yet, whatever follows in the buffer.
    expect(readVariableByteInteger(b, 1, bytes.length, read)).toBe('short');
  });

  it('a fifth length byte is malformed [MQTT-1.5.5]', () => {
    expect(readVariableByteInteger(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x01]), 0, 5, { value: 0, next: 0 })).toBe('malformed');
  });
});
