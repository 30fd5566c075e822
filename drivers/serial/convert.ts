// Text (or JSON scalars) from an ASCII device to the tag's type. Instruments pad and sign their
// numbers ("+  12.50", "-0003"); anything that is not cleanly a value of the type is an error
// for that tag, never a guess.
import { INTEGER_RANGES } from '../../src/runtime/scaling.js';
import type { TagType, TagValue } from '../../src/runtime/types.js';

const INT_BITS = INTEGER_RANGES;

const TRUE = new Set(['1', 'true', 'on', 'yes', 'y', 't']);
const FALSE = new Set(['0', 'false', 'off', 'no', 'n', 'f']);

/** "+  12.50" → "+12.50": scales put spaces between the sign and the digits. */
function numericText(raw: string): string {
  return raw.trim().replace(/^([+-])\s+/, '$1');
}

export function toTagValue(raw: string | number | boolean, type: TagType): TagValue | { error: string } {
  const text = typeof raw === 'string' ? raw : String(raw);
  switch (type) {
    case 'string':
      return text;
    case 'bytes':
      return new Uint8Array(Buffer.from(text, 'latin1'));
    case 'bool': {
      if (typeof raw === 'boolean') return raw;
      const t = text.trim().toLowerCase();
      if (TRUE.has(t)) return true;
      if (FALSE.has(t)) return false;
      return { error: `"${text}" is not a boolean (1/0, true/false, on/off, yes/no)` };
    }
    case 'float32':
    case 'float64': {
      const t = numericText(text);
      const n = t === '' ? Number.NaN : Number(t);
      return Number.isFinite(n) ? n : { error: `"${text}" is not a number` };
    }
    case 'datetime': {
      if (typeof raw === 'number') return raw;
      const n = Date.parse(text.trim());
      return Number.isFinite(n) ? n : { error: `"${text}" is not a date/time` };
    }
    default: {
      const range = INT_BITS[type];
      if (range === undefined) return { error: `unsupported type ${type}` };
      const t = numericText(text).replace(/^\+/, '');
      if (!/^-?\d+$/.test(t)) return { error: `"${text}" is not an integer` };
      const big = BigInt(t);
      if (big < range[0] || big > range[1]) return { error: `${t} does not fit ${type}` };
      return type === 'int64' || type === 'uint64' ? big : Number(big);
    }
  }
}
