// Report-by-exception: has a value moved far enough from the last reported one to be worth
// sending? Absolute deadbands are in engineering units; percent deadbands are of the tag's
// engineering range when it has one (as OPC UA PercentDeadband is of EURange), else of the
// last reported value.
import type { TagValue } from './types.js';

export interface DeadbandSpec {
  deadband?: number | string | undefined;
  range?: { min: number; max: number } | undefined;
}

export function parseDeadband(spec: DeadbandSpec): { kind: 'none' } | { kind: 'absolute'; value: number } | { kind: 'percent'; value: number } {
  const d = spec.deadband;
  if (d === undefined) return { kind: 'none' };
  if (typeof d === 'number') return { kind: 'absolute', value: d };
  return { kind: 'percent', value: Number.parseFloat(d) };
}

export function valuesEqual(a: TagValue | null, b: TagValue | null): boolean {
  if (a === b) return true;
  if (a === null || b === null) return false;
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b);
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    return a.length === b.length && a.every((x, i) => x === b[i]);
  }
  return false;
}

/** True when `next` should be reported given the last reported value. */
export function exceedsDeadband(last: TagValue | null, next: TagValue | null, spec: DeadbandSpec): boolean {
  if (valuesEqual(last, next)) return false;
  if (last === null || next === null) return true;
  const numeric = (v: TagValue): number | undefined => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined);
  const a = numeric(last);
  const b = numeric(next);
  if (a === undefined || b === undefined) return true;
  if (Number.isNaN(a) !== Number.isNaN(b)) return true;
  const db = parseDeadband(spec);
  if (db.kind === 'none') return true;
  const base = db.kind === 'absolute' ? 1 : (spec.range ? spec.range.max - spec.range.min : Math.abs(a)) / 100;
  const threshold = db.value * base;
  // Strictly greater: a deadband of 0 reports every change, a deadband equal to the step
  // reports nothing of that size (matches Kepware and Ignition).
  return Math.abs(b - a) > threshold;
}
