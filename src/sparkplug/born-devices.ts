// Which devices have a live DBIRTH on the current session, and what each birth carried.
// Issue 12: DATA for a device without a live DBIRTH breaks the Sparkplug device lifecycle
// ([tck-id-topics-ddata-seq-num] presumes a born device; hosts drop or rebirth on it), and a
// DDATA that only repeats the values the DBIRTH just carried makes a historian record every
// value twice. The edge node asks this ledger before it encodes device DATA.
import type { BirthMetric } from './nbirth.js';
import type { StoredMetric } from './record.js';

interface BirthValue {
  timestamp: number;
  quality: string;
  key: string;
}

export class BornDevices {
  private readonly births = new Map<string, Map<string, BirthValue>>();

  has(device: string): boolean {
    return this.births.has(device);
  }

  /** The device's DBIRTH went out with these metrics. */
  born(device: string, metrics: readonly BirthMetric[]): void {
    this.births.set(device, new Map(metrics.map((m) => [m.def.name, { timestamp: m.timestamp, quality: m.quality, key: valueKey(m.value) }])));
  }

  died(device: string): void {
    this.births.delete(device);
  }

  clear(): void {
    this.births.clear();
  }

  /**
   * What the birth means for a live sample produced before the DBIRTH was encoded: `repeat`
   * when the birth carried this very sample (time, quality and value; not sent again),
   * `older` when the birth carried a newer value (sent flagged historical, so that the host's
   * current value does not step back), `live` otherwise.
   */
  relation(device: string, m: StoredMetric): 'repeat' | 'older' | 'live' {
    const b = this.births.get(device)?.get(m.name);
    if (b === undefined) return 'live';
    if (m.timestamp < b.timestamp) return 'older';
    if (m.timestamp === b.timestamp && m.quality === b.quality && valueKey(m.value) === b.key) return 'repeat';
    return 'live';
  }
}

function valueKey(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'bigint') return `n:${v.toString()}`;
  if (v instanceof Uint8Array) return `b:${Buffer.from(v).toString('hex')}`;
  if (typeof v === 'number' && Number.isNaN(v)) return 'NaN';
  return JSON.stringify(v);
}
