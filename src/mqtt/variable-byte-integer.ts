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

/** Where readVariableByteInteger puts what it read: the value and the offset after its last byte. */
export interface VariableByteIntegerRead {
  value: number;
  next: number;
}

/**
 * Reads the integer at `at` into `into`, looking no further than `end`: 'short' when the bytes
 * stop before its last byte (wait for more), 'malformed' when four bytes all say "more follows"
 * [MQTT-1.5.5]. The one reader for the hand-written framers (the bridge's PUBACK tap, the test
 * proxies); `into` is the caller's, so the drain's per-packet path allocates nothing.
 */
export function readVariableByteInteger(b: Uint8Array, at: number, end: number, into: VariableByteIntegerRead): 'ok' | 'short' | 'malformed' {
  let value = 0;
  let mul = 1;
  for (let o = at; o < at + 4; o++) {
    if (o >= end) return 'short';
    const byte = b[o] as number;
    value += (byte & 0x7f) * mul;
    if ((byte & 0x80) === 0) {
      into.value = value;
      into.next = o + 1;
      return 'ok';
    }
    mul *= 128;
  }
  return 'malformed';
}
