// Birth values in the history, each exactly once (issue 14, item 1; docs/host.md "Births").
// The edge does not repeat in DDATA a sample its DBIRTH just carried (issue 12), so a value
// that never changes reaches the host only in births. The host stores birth values as samples,
// but a birth is state, repeated on every rebirth with the same source timestamps: per series
// (node, device, metric) this remembers the newest source timestamp stored and the last sample
// stored from a birth, with the same identity rule as the edge (src/sparkplug/born-devices.ts:
// a sample is its time, quality and value):
//  - a birth value is stored only when its timestamp is newer than every stored sample of its
//    series (a rebirth repeating what the history holds adds nothing);
//  - a DATA sample identical to the series' last birth-stored sample is dropped (the replayed
//    outbox record that produced the value the birth already carried).
// The memory is committed in the same transaction as the samples (`dirty()` → the store), so a
// host killed at any point restarts with exactly what it stored.
import type { Sample } from './sample.js';

export interface SeriesRow {
  node: string;
  device: string;
  metric: string;
  lastTs: number;
  birthTs: number | null;
  birthQuality: number | null;
  birthValue: string | null;
}

interface Entry {
  row: SeriesRow;
  dirty: boolean;
}

/** A value's identity, comparable across a restart (the store keeps this text). */
export function valueKey(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'bigint') return `n:${v.toString()}`;
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : `d:${v}`;
  if (typeof v === 'string') return `s:${v}`;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof Uint8Array) return `b:${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`;
  return `j:${JSON.stringify(Array.from(v as ArrayLike<unknown>, (x) => (typeof x === 'bigint' ? x.toString() : x)))}`;
}

export class SeriesMemory {
  private readonly nodes = new Map<string, Map<string, Map<string, Entry>>>();
  private changed: Entry[] = [];
  /** DATA samples dropped as repeats of a birth-stored sample. */
  birthRepeats = 0;
  /** Birth values not stored: the history already held them or something newer. */
  birthKnown = 0;

  constructor(rows: Iterable<SeriesRow> = []) {
    for (const r of rows) this.metrics(r.node, r.device).set(r.metric, { row: { ...r }, dirty: false });
  }

  private metrics(node: string, device: string): Map<string, Entry> {
    let devices = this.nodes.get(node);
    if (devices === undefined) {
      devices = new Map();
      this.nodes.set(node, devices);
    }
    let m = devices.get(device);
    if (m === undefined) {
      m = new Map();
      devices.set(device, m);
    }
    return m;
  }

  private touch(e: Entry): void {
    if (e.dirty) return;
    e.dirty = true;
    this.changed.push(e);
  }

  /**
   * Admitted DATA samples of one message (one node and device): returns those to store (the
   * same array when none is a birth repeat) and records their times.
   */
  data(samples: Sample[]): Sample[] {
    const first = samples[0];
    if (first === undefined) return samples;
    const m = this.metrics(first.node, first.device);
    let out: Sample[] | undefined;
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i] as Sample;
      const e = m.get(s.metric);
      if (e === undefined) {
        const entry: Entry = { row: { node: s.node, device: s.device, metric: s.metric, lastTs: s.ts, birthTs: null, birthQuality: null, birthValue: null }, dirty: false };
        m.set(s.metric, entry);
        this.touch(entry);
      } else if (e.row.birthTs === s.ts && e.row.birthQuality === s.quality && e.row.birthValue === valueKey(s.value)) {
        this.birthRepeats += 1;
        out ??= samples.slice(0, i);
        continue;
      } else if (s.ts > e.row.lastTs) {
        e.row.lastTs = s.ts;
        this.touch(e);
      }
      out?.push(s);
    }
    return out ?? samples;
  }

  /** The value samples of one birth (one node and device): returns those not stored yet. */
  birth(samples: Sample[]): Sample[] {
    const first = samples[0];
    if (first === undefined) return samples;
    const m = this.metrics(first.node, first.device);
    const out: Sample[] = [];
    for (const s of samples) {
      let e = m.get(s.metric);
      if (e !== undefined && s.ts <= e.row.lastTs) {
        this.birthKnown += 1;
        continue;
      }
      if (e === undefined) {
        e = { row: { node: s.node, device: s.device, metric: s.metric, lastTs: s.ts, birthTs: null, birthQuality: null, birthValue: null }, dirty: false };
        m.set(s.metric, e);
      }
      e.row.lastTs = s.ts;
      e.row.birthTs = s.ts;
      e.row.birthQuality = s.quality;
      e.row.birthValue = valueKey(s.value);
      this.touch(e);
      out.push(s);
    }
    return out;
  }

  /** The series changed since the last call, as rows for the store; clears the marks. */
  takeDirty(): SeriesRow[] {
    const out = this.changed.map((e) => {
      e.dirty = false;
      return { ...e.row };
    });
    this.changed = [];
    return out;
  }
}
