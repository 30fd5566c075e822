// Birth values in the history, each exactly once (issue 14, item 1; docs/host.md "Births").
// The edge does not repeat in DDATA a sample its DBIRTH just carried (issue 12), so a value
// that never changes reaches the host only in births. The host stores birth values as samples,
// but a birth is state, repeated on every rebirth with the same source timestamps: per series
// (node, device, metric) this remembers the newest source timestamp stored and the last sample
// stored from a birth, with the same identity rule as the edge (src/sparkplug/born-devices.ts:
// a sample is its time, quality and value):
//  - a birth value is stored only when its timestamp is newer than every stored sample of its
//    series (a rebirth repeating what the history holds adds nothing);
//  - a DATA sample identical to a birth-stored sample of its series is dropped (the replayed
//    outbox record that produced the value the birth already carried). Not only the last one:
//    a birth can store V@T, the connection drop before V@T's record arrives, the next birth
//    store V2@T2, and only then V@T's record come (the kill -9 interop test stored one value
//    twice per device so). The older ones are kept in memory until their record comes (at most
//    OLDER_BIRTHS a series); the newest is persisted.
// Persistence, in the transactions that store the samples: what a birth stored is written with
// its batch (`takeBirths()`, rare); the newest times, which every DATA sample moves, only at a
// checkpoint every few seconds (`takeCheckpoint()`) together with the history's high-water mark,
// and a restart recomputes them from the samples past that mark (the store's `seriesState()`).
// So a host killed at any point restarts with exactly what it stored, and ingest does not write
// a row per series per batch (issue 14, item 3).
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

/** Birth-stored samples kept per series besides the newest, waiting for their replayed record. */
const OLDER_BIRTHS = 16;

interface Entry {
  row: SeriesRow;
  /** Earlier birth-stored samples ("ts quality value") whose record has not come yet. */
  older?: string[];
  /** Changed since the last checkpoint. */
  dirty: boolean;
  /** A birth stored a sample of it since the last batch was sealed. */
  birthDirty: boolean;
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
  private births: Entry[] = [];
  /** DATA samples dropped as repeats of a birth-stored sample. */
  birthRepeats = 0;
  /** Birth values not stored: the history already held them or something newer. */
  birthKnown = 0;

  constructor(rows: Iterable<SeriesRow> = []) {
    for (const r of rows) this.metrics(r.node, r.device).set(r.metric, { row: { ...r }, dirty: false, birthDirty: false });
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
        const entry: Entry = { row: { node: s.node, device: s.device, metric: s.metric, lastTs: s.ts, birthTs: null, birthQuality: null, birthValue: null }, dirty: false, birthDirty: false };
        m.set(s.metric, entry);
        this.touch(entry);
      } else if ((e.row.birthTs === s.ts && e.row.birthQuality === s.quality && e.row.birthValue === valueKey(s.value)) || (e.older !== undefined && takeOlder(e, s))) {
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
        e = { row: { node: s.node, device: s.device, metric: s.metric, lastTs: s.ts, birthTs: null, birthQuality: null, birthValue: null }, dirty: false, birthDirty: false };
        m.set(s.metric, e);
      }
      if (e.row.birthTs !== null) {
        e.older ??= [];
        e.older.push(`${e.row.birthTs} ${e.row.birthQuality} ${e.row.birthValue}`);
        if (e.older.length > OLDER_BIRTHS) e.older.shift();
      }
      e.row.lastTs = s.ts;
      e.row.birthTs = s.ts;
      e.row.birthQuality = s.quality;
      e.row.birthValue = valueKey(s.value);
      this.touch(e);
      if (!e.birthDirty) {
        e.birthDirty = true;
        this.births.push(e);
      }
      out.push(s);
    }
    return out;
  }

  /** The series a birth stored samples of since the last call: written with their batch. */
  takeBirths(): SeriesRow[] {
    const out = rowsOf(this.births, 'birthDirty');
    this.births = [];
    return out;
  }

  /** Every series changed since the last checkpoint (births included); clears the marks. */
  takeCheckpoint(): SeriesRow[] {
    const out = rowsOf(this.changed, 'dirty');
    this.changed = [];
    return out;
  }
}

/** Copies of the entries' rows, clearing the mark that listed them. */
function rowsOf(entries: readonly Entry[], mark: 'dirty' | 'birthDirty'): SeriesRow[] {
  return entries.map((e) => {
    e[mark] = false;
    return { ...e.row };
  });
}

function takeOlder(e: Entry, s: Sample): boolean {
  const older = e.older as string[];
  const i = older.indexOf(`${s.ts} ${s.quality} ${valueKey(s.value)}`);
  if (i < 0) return false;
  older.splice(i, 1);
  return true;
}

/** The checkpoint's rows, moved on by the newest time of each series stored since (a restart). */
export function mergeRecent(rows: readonly SeriesRow[], recent: Iterable<{ node: string; device: string; metric: string; ts: number }>): SeriesRow[] {
  const by = new Map(rows.map((r) => [`${r.node}\u0000${r.device}\u0000${r.metric}`, { ...r }]));
  for (const x of recent) {
    const k = `${x.node}\u0000${x.device}\u0000${x.metric}`;
    const r = by.get(k);
    if (r === undefined) by.set(k, { node: x.node, device: x.device, metric: x.metric, lastTs: x.ts, birthTs: null, birthQuality: null, birthValue: null });
    else if (x.ts > r.lastTs) r.lastTs = x.ts;
  }
  return [...by.values()];
}
