// What the Sparkplug layer keeps in the outbox. Sparkplug seq and aliases belong to one MQTT
// session, so the outbox holds values, not encoded payloads (DESIGN.md, "the way data walks"):
// a record is encoded when it is sent, with the session's seq, and flagged historical when it
// was produced before that session's births.
import type { Quality, TagValue } from '../runtime/types.js';

export const SPARKPLUG_RECORD_KIND = 'spb';

export type StoredValue = TagValue | null;

export interface StoredMetric {
  name: string;
  value: StoredValue;
  quality: Quality;
  timestamp: number;
  qualityChanged: boolean;
}

export type SparkplugRecord =
  | { type: 'NDATA'; metrics: StoredMetric[] }
  | { type: 'DDATA'; device: string; metrics: StoredMetric[] }
  | { type: 'DBIRTH'; device: string }
  | { type: 'DDEATH'; device: string; timestamp: number };

const Q: Record<Quality, string> = { GOOD: 'G', BAD: 'B', UNCERTAIN: 'U' };
const Q_BACK: Record<string, Quality> = { G: 'GOOD', B: 'BAD', U: 'UNCERTAIN' };

// JSON keeps the stored form readable with `sqlite3` when someone debugs a site; bigint and
// bytes get tagged objects because JSON has neither.
function encodeValue(v: StoredValue): unknown {
  if (typeof v === 'bigint') return { b: v.toString() };
  if (v instanceof Uint8Array) return { x: Buffer.from(v).toString('base64') };
  if (typeof v === 'number' && !Number.isFinite(v)) return { f: String(v) };
  return v;
}

function decodeValue(v: unknown): StoredValue {
  if (v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  const o = v as { b?: string; x?: string; f?: string };
  if (o.b !== undefined) return BigInt(o.b);
  if (o.x !== undefined) return new Uint8Array(Buffer.from(o.x, 'base64'));
  if (o.f !== undefined) return Number(o.f);
  throw new Error('unreadable stored value');
}

export function encodeRecord(r: SparkplugRecord): Buffer {
  const metrics = 'metrics' in r ? r.metrics.map((m) => [m.name, encodeValue(m.value), Q[m.quality], m.timestamp, m.qualityChanged ? 1 : 0]) : undefined;
  return Buffer.from(JSON.stringify({ ...r, ...(metrics !== undefined ? { metrics } : {}) }));
}

export function decodeRecord(payload: Buffer): SparkplugRecord {
  const raw = JSON.parse(payload.toString('utf8')) as { type: string; device?: string; timestamp?: number; metrics?: unknown[][] };
  const metrics = (raw.metrics ?? []).map(
    ([name, value, q, ts, changed]): StoredMetric => ({
      name: String(name),
      value: decodeValue(value),
      quality: Q_BACK[String(q)] ?? 'BAD',
      timestamp: Number(ts),
      qualityChanged: changed === 1,
    }),
  );
  switch (raw.type) {
    case 'NDATA':
      return { type: 'NDATA', metrics };
    case 'DDATA':
      return { type: 'DDATA', device: String(raw.device), metrics };
    case 'DBIRTH':
      return { type: 'DBIRTH', device: String(raw.device) };
    case 'DDEATH':
      return { type: 'DDEATH', device: String(raw.device), timestamp: Number(raw.timestamp) };
    default:
      throw new Error(`unknown Sparkplug record type ${raw.type}`);
  }
}
