// Engineering values from raw device values (`raw * scale + offset`) and back for writes.
import type { CommonTagConfig } from '../config/sections/devices.js';
import type { TagType, TagValue } from './types.js';

/** Inclusive value range of each integer tag type; drivers check decoded values against it. */
export const INTEGER_RANGES: Partial<Record<TagType, readonly [bigint, bigint]>> = {
  int8: [-128n, 127n],
  uint8: [0n, 255n],
  int16: [-32768n, 32767n],
  uint16: [0n, 65535n],
  int32: [-2147483648n, 2147483647n],
  uint32: [0n, 4294967295n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

export function isNumericType(type: TagType): boolean {
  return type in INTEGER_RANGES || type === 'float32' || type === 'float64';
}

export function isScaled(tag: Pick<CommonTagConfig, 'scale' | 'offset'>): boolean {
  return tag.scale !== 1 || tag.offset !== 0;
}

/** The type of the value the runtime reports: a scaled integer becomes a float64. */
export function reportedType(tag: Pick<CommonTagConfig, 'type' | 'scale' | 'offset'>): TagType {
  return isNumericType(tag.type) && isScaled(tag) ? 'float64' : tag.type;
}

export function toEngineering(raw: TagValue, tag: Pick<CommonTagConfig, 'type' | 'scale' | 'offset'> & { decimals?: number | undefined }): TagValue {
  if (!isNumericType(tag.type)) return raw;
  if (!isScaled(tag)) return typeof raw === 'number' ? roundTo(raw, tag.decimals) : raw;
  const n = typeof raw === 'bigint' ? Number(raw) : typeof raw === 'boolean' ? Number(raw) : raw;
  if (typeof n !== 'number') return raw;
  return roundTo(n * tag.scale + tag.offset, tag.decimals);
}

/**
 * `decimals` (issue 20): 539 * 0.1 is 53.900000000000006 in binary floating point; rounding
 * after scaling reports 53.9. Rounds half away from zero; non-finite values pass unchanged.
 */
export function roundTo(n: number, decimals: number | undefined): number {
  if (decimals === undefined || !Number.isFinite(n)) return n;
  const rounded = Number(`${Math.round(Number(`${Math.abs(n)}e${decimals}`))}e-${decimals}`);
  return Number.isFinite(rounded) ? Math.sign(n) * rounded || 0 : n;
}

/**
 * The raw value to send to the device for an engineering value from a command. Throws with a
 * message fit for the command's result when the value does not fit the tag.
 */
export function toRaw(value: TagValue, tag: Pick<CommonTagConfig, 'type' | 'scale' | 'offset'>): TagValue {
  const type = tag.type;
  if (type === 'bool') {
    if (typeof value === 'boolean') return value;
    if (value === 0 || value === 1 || value === 0n || value === 1n) return value === 1 || value === 1n;
    throw new Error(`expected a boolean for a bool tag, got ${describe(value)}`);
  }
  if (type === 'string') {
    if (typeof value === 'string') return value;
    throw new Error(`expected a string, got ${describe(value)}`);
  }
  if (type === 'bytes') {
    if (value instanceof Uint8Array) return value;
    throw new Error(`expected bytes, got ${describe(value)}`);
  }
  let n: number | bigint;
  if (typeof value === 'number' || typeof value === 'bigint') n = value;
  else if (typeof value === 'boolean') n = value ? 1 : 0;
  else throw new Error(`expected a number, got ${describe(value)}`);

  if (isScaled(tag)) {
    if (tag.scale === 0) throw new Error('tag has scale 0: no raw value maps to it');
    n = (Number(n) - tag.offset) / tag.scale;
  }
  if (type === 'float32' || type === 'float64' || type === 'datetime') {
    const f = Number(n);
    if (!Number.isFinite(f)) throw new Error(`value ${f} is not finite`);
    return f;
  }
  const limits = INTEGER_RANGES[type];
  if (limits === undefined) throw new Error(`cannot write a ${type} tag`);
  let i: bigint;
  if (typeof n === 'bigint') i = n;
  else {
    if (!Number.isFinite(n)) throw new Error(`value ${n} is not finite`);
    // Unscaling 12.3 bar with scale 0.1 gives 122.99999999999999: round, don't truncate.
    i = BigInt(Math.round(n));
  }
  if (i < limits[0] || i > limits[1]) throw new Error(`raw value ${i} is outside the ${type} range ${limits[0]}..${limits[1]}`);
  return type === 'int64' || type === 'uint64' ? i : Number(i);
}

function describe(v: TagValue): string {
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  return `${typeof v} ${String(v)}`;
}
