// MQTT's Variable Byte Integer (3.1.1 section 2.2.3, 5.0 section 1.5.5): the Remaining Length
// and the MQTT 5 property lengths. Shared by the encoders that write packets by hand (the
// broker's fast PUBLISH path and the upstream drain), which mqtt-packet's generic writer was
// too slow for.

/** Largest value four bytes can say [MQTT-1.5.5]. */
export const MAX_VARIABLE_BYTE_INTEGER = 268_435_455;

/** Bytes `n` takes; `n` must be at most MAX_VARIABLE_BYTE_INTEGER. */
export function variableByteIntegerLength(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4;
}

/** Writes `n` at `at`; returns the offset after it. */
export function writeVariableByteInteger(b: Buffer, at: number, n: number): number {
  let o = at;
  let v = n;
  do {
    let byte = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) byte |= 0x80;
    b[o++] = byte;
  } while (v > 0);
  return o;
}

/**
 * Reads the integer at `at`: its value and the offset after it; 'incomplete' when the buffer
 * ends inside it, 'malformed' when it runs past four bytes [MQTT-1.5.5].
 */
export function readVariableByteInteger(b: Buffer, at: number): { value: number; next: number } | 'incomplete' | 'malformed' {
  let value = 0;
  let mul = 1;
  for (let o = at; o < at + 4; o++) {
    if (o >= b.length) return 'incomplete';
    const byte = b[o] as number;
    value += (byte & 0x7f) * mul;
    if ((byte & 0x80) === 0) return { value, next: o + 1 };
    mul *= 128;
  }
  return 'malformed';
}
