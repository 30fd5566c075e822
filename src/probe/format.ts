// Probe rows as an aligned table for a terminal, one row per tag, the reason last (unpadded).
import type { TagValue } from '../runtime/types.js';
import type { ProbeRow } from './probe-device.js';

export function printableValue(v: TagValue | null): string {
  if (v === null) return '-';
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

export function formatRows(rows: readonly ProbeRow[]): string[] {
  const header = ['DEVICE', 'TAG', 'ADDRESS', 'RAW', 'VALUE', 'QUALITY', 'REASON'];
  const cells = rows.map((r) => [r.device, r.tag, r.address, r.raw, printableValue(r.value), r.quality, r.reason ?? '']);
  const widths = header.slice(0, -1).map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: string[]): string => c.map((x, i) => (i < widths.length ? x.padEnd(widths[i] ?? 0) : x)).join('  ').trimEnd();
  return [line(header), ...cells.map(line)];
}
