// `fieldgate host export` (issue 14, item 6): the history as CSV or JSON lines, filtered by
// node, device, metric and time. Streams rows: a year of history never sits in memory.
import type { ExportFilter, HistoryStore, StoredRow } from './history-store.js';
import { toJsonValue } from './value-codec.js';

export type ExportFormat = 'csv' | 'jsonl';

export const CSV_HEADER = 'node,device,metric,datatype,timestamp,value,quality,historical';

function csvField(v: unknown): string {
  const s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function formatRow(r: StoredRow, format: ExportFormat): string {
  const value = toJsonValue(r.datatype, r.value);
  if (format === 'jsonl') {
    return JSON.stringify({ node: r.node, device: r.device, metric: r.metric, datatype: r.datatype, timestamp: r.ts, value, quality: r.quality, historical: r.historical });
  }
  return [r.node, r.device, r.metric, String(r.datatype), new Date(r.ts).toISOString(), csvField(value), String(r.quality), r.historical ? '1' : '0'].map((x, i) => (i === 5 ? x : csvField(x))).join(',');
}

export async function exportHistory(store: HistoryStore, filter: ExportFilter, format: ExportFormat, write: (chunk: string) => void): Promise<number> {
  let n = 0;
  if (format === 'csv') write(CSV_HEADER + '\n');
  for await (const r of store.rows(filter)) {
    write(formatRow(r, format) + '\n');
    n += 1;
  }
  return n;
}

/** `--from` / `--to`: ISO 8601 or ms since the epoch. */
export function parseTime(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  const t = Date.parse(text);
  return Number.isNaN(t) ? undefined : t;
}
