// What a write must satisfy before it goes anywhere near a device, the same on every path
// (Sparkplug DCMD, local JSON commands, anything later): issue 19 found the paths disagreeing.
// toRaw (scaling.ts) then checks the raw integer width after unscaling.
import type { CommonTagConfig } from '../config/sections/devices.js';
import { INTEGER_RANGES } from './scaling.js';
import type { TagValue } from './types.js';

/** Longest string a command may write: field devices hold tens of characters, not megabytes. */
export const MAX_WRITE_STRING = 4096;

type Checked = Pick<CommonTagConfig, 'type' | 'scale' | 'offset' | 'range'>;

/** Throws with a message fit for the command's result when `value` may not be written to `tag`. */
export function checkWrite(value: TagValue, tag: Checked): void {
  const type = tag.type;
  if (typeof value === 'boolean' && type !== 'bool') throw new Error(`a boolean can only be written to a bool tag, this one is ${type}`);
  if (typeof value === 'string') {
    if (value.length > MAX_WRITE_STRING) throw new Error(`a string of ${value.length} characters is longer than the ${MAX_WRITE_STRING} allowed`);
    return;
  }
  if (typeof value !== 'number' && typeof value !== 'bigint') return; // bytes: toRaw decides
  if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`value ${value} is not finite`);
  const unscaledInteger = INTEGER_RANGES[type] !== undefined && tag.scale === 1 && tag.offset === 0;
  // An unscaled integer tag has no place for a fraction: 1.5 used to be rounded to 2.
  if (unscaledInteger && typeof value === 'number' && !Number.isInteger(value)) throw new Error(`${value} is not a whole number, the ${type} tag takes integers only`);
  if (tag.range !== undefined) {
    const n = Number(value);
    if (n < tag.range.min || n > tag.range.max) throw new Error(`value ${n} is outside the tag's range ${tag.range.min}..${tag.range.max}`);
  }
}
