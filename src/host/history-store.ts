// What the host needs from a history store (issue 14): SQLite by default, PostgreSQL for
// central installations. `commit` is one transaction: samples, dedup ranges and catalogues
// become durable together or not at all.
import type { Catalogue } from './lifecycle.js';
import type { StreamRow } from './dedup-ledger.js';
import type { Sample } from './sample.js';
import type { SeriesRow } from './series-memory.js';

export interface ExportFilter {
  node?: string | undefined;
  device?: string | undefined;
  metric?: string | undefined;
  /** ms since the epoch, inclusive. */
  from?: number | undefined;
  /** ms since the epoch, exclusive. */
  to?: number | undefined;
}

export interface StoredRow {
  node: string;
  device: string;
  metric: string;
  datatype: number;
  ts: number;
  /** As the column holds it: integers as bigint, reals as number, text, blob, or null. */
  value: bigint | number | string | Buffer | null;
  quality: number;
  historical: boolean;
}

export interface HistoryStore {
  streams(): Promise<StreamRow[]>;
  catalogues(): Promise<Array<[string, Catalogue]>>;
  /** The series memory (src/host/series-memory.ts): the last checkpoint plus the samples since. */
  seriesState(): Promise<SeriesRow[]>;
  /**
   * One transaction. `series`: series memory rows to upsert; `checkpoint`: also record the
   * history's high-water mark, past which `seriesState()` recomputes the newest times.
   */
  commit(samples: readonly Sample[], streams: readonly StreamRow[], catalogues: ReadonlyArray<[string, Catalogue]>, series?: readonly SeriesRow[], checkpoint?: boolean): Promise<void>;
  rows(filter: ExportFilter): AsyncGenerator<StoredRow>;
  close(): Promise<void>;
}
