// The host's history in SQLite (issue 14, item 4): one file, WAL, one transaction per batch.
// Samples, the dedup ranges that admitted them and the births' catalogues are written in the
// same transaction, so a host killed at any moment restarts consistent (docs/host.md).
import { FieldgateError, errorMessage } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import { openDatabase, type SqliteDatabase } from '../store/database.js';
import type { Catalogue } from './lifecycle.js';
import type { StreamRow } from './dedup-ledger.js';
import { toColumn, type Column } from './value-codec.js';

const ROWS_PER_INSERT = 64;
import type { Sample } from './sample.js';
import { mergeRecent, type SeriesRow } from './series-memory.js';
import type { ExportFilter, HistoryStore, StoredRow } from './history-store.js';

const MIGRATIONS = {
  owner: 'host-history',
  migrations: [
    {
      version: 1,
      description: 'series, samples, dedup streams, node catalogues',
      up(db: SqliteDatabase): void {
        db.exec(`
          CREATE TABLE series (id INTEGER PRIMARY KEY, node TEXT NOT NULL, device TEXT NOT NULL, metric TEXT NOT NULL, datatype INTEGER NOT NULL,
                               UNIQUE (node, device, metric, datatype));
          CREATE TABLE sample (series INTEGER NOT NULL, ts INTEGER NOT NULL, value, quality INTEGER NOT NULL, historical INTEGER NOT NULL);
          CREATE TABLE dedup_stream (node TEXT NOT NULL, epoch TEXT NOT NULL, through INTEGER NOT NULL, ranges TEXT NOT NULL, PRIMARY KEY (node, epoch));
          CREATE TABLE node_catalogue (node TEXT PRIMARY KEY, catalogue TEXT NOT NULL);
        `);
      },
    },
    {
      version: 2,
      description: 'series state: newest stored time and last birth-stored sample per series (birth values, issue 14)',
      up(db: SqliteDatabase): void {
        db.exec(`
          CREATE TABLE series_state (node TEXT NOT NULL, device TEXT NOT NULL, metric TEXT NOT NULL, last_ts INTEGER NOT NULL,
                                     birth_ts INTEGER, birth_quality INTEGER, birth_value TEXT, PRIMARY KEY (node, device, metric));
          CREATE TABLE host_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
        `);
      },
    },
  ],
} as const;

export class SqliteHistory implements HistoryStore {
  private readonly db: SqliteDatabase;
  private readonly seriesIds = new Map<string, number | bigint>();
  /** node → device → metric → the series last used: no key string built per sample (issue 14 bench). */
  private readonly recent = new Map<string, Map<string, Map<string, { datatype: number; id: number | bigint }>>>();
  private readonly insertSample;
  private readonly insertSamples;
  private readonly insertSeries;
  private readonly upsertStream;
  private readonly upsertCatalogue;
  private readonly upsertSeriesState;
  private readonly markCheckpoint;

  constructor(path: string, logger?: Logger) {
    this.db = openDatabase({ path, migrations: [MIGRATIONS], synchronous: 'full', ...(logger !== undefined ? { logger } : {}) }).db;
    this.insertSample = this.db.prepare('INSERT INTO sample (series, ts, value, quality, historical) VALUES (?, ?, ?, ?, ?)');
    // ROWS_PER_INSERT rows per statement: one native call instead of 64 (issue 14 bench).
    this.insertSamples = this.db.prepare(`INSERT INTO sample (series, ts, value, quality, historical) VALUES ${Array.from({ length: ROWS_PER_INSERT }, () => '(?, ?, ?, ?, ?)').join(', ')}`);
    this.insertSeries = this.db.prepare('INSERT INTO series (node, device, metric, datatype) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET datatype = datatype RETURNING id');
    this.upsertStream = this.db.prepare('INSERT INTO dedup_stream (node, epoch, through, ranges) VALUES (?, ?, ?, ?) ON CONFLICT (node, epoch) DO UPDATE SET through = excluded.through, ranges = excluded.ranges');
    this.upsertCatalogue = this.db.prepare('INSERT INTO node_catalogue (node, catalogue) VALUES (?, ?) ON CONFLICT (node) DO UPDATE SET catalogue = excluded.catalogue');
    this.upsertSeriesState = this.db.prepare(
      `INSERT INTO series_state (node, device, metric, last_ts, birth_ts, birth_quality, birth_value) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (node, device, metric) DO UPDATE SET last_ts = excluded.last_ts, birth_ts = excluded.birth_ts, birth_quality = excluded.birth_quality, birth_value = excluded.birth_value`,
    );
    this.markCheckpoint = this.db.prepare(
      "INSERT INTO host_meta (key, value) SELECT 'series_checkpoint', COALESCE(MAX(rowid), 0) FROM sample WHERE true ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    );
    for (const r of this.db.prepare('SELECT id, node, device, metric, datatype FROM series').all() as Array<{ id: number; node: string; device: string; metric: string; datatype: number }>) {
      this.seriesIds.set(`${r.node}\u0000${r.device}\u0000${r.metric}\u0000${r.datatype}`, r.id);
    }
  }

  async streams(): Promise<StreamRow[]> {
    return this.db.prepare('SELECT node, epoch, through, ranges FROM dedup_stream').all() as StreamRow[];
  }

  async catalogues(): Promise<Array<[string, Catalogue]>> {
    return (this.db.prepare('SELECT node, catalogue FROM node_catalogue').all() as Array<{ node: string; catalogue: string }>).map((r) => [r.node, JSON.parse(r.catalogue) as Catalogue]);
  }

  async seriesState(): Promise<SeriesRow[]> {
    const rows = (this.db.prepare('SELECT node, device, metric, last_ts, birth_ts, birth_quality, birth_value FROM series_state').all() as Array<Record<string, unknown>>).map((r) => ({
      node: r.node as string,
      device: r.device as string,
      metric: r.metric as string,
      lastTs: Number(r.last_ts),
      birthTs: r.birth_ts === null ? null : Number(r.birth_ts),
      birthQuality: r.birth_quality === null ? null : Number(r.birth_quality),
      birthValue: r.birth_value as string | null,
    }));
    const mark = (this.db.prepare("SELECT value FROM host_meta WHERE key = 'series_checkpoint'").get() as { value: number } | undefined)?.value ?? 0;
    // Bounded by the checkpoint interval: the samples of the last few seconds before a crash.
    const recent = this.db.prepare('SELECT s.node, s.device, s.metric, MAX(x.ts) AS ts FROM sample x JOIN series s ON s.id = x.series WHERE x.rowid > ? GROUP BY x.series').all(mark) as Array<{ node: string; device: string; metric: string; ts: number }>;
    return mergeRecent(rows, recent);
  }

  async commit(samples: readonly Sample[], streams: readonly StreamRow[], catalogues: ReadonlyArray<[string, Catalogue]>, series: readonly SeriesRow[] = [], checkpoint = false): Promise<void> {
    const added: string[] = [];
    try {
      this.db.transaction(() => {
        const args: Column[] = [];
        // Samples come in runs of one message (one node and device): look those up once a run.
        let node: string | undefined;
        let device: string | undefined;
        let metrics: Map<string, { datatype: number; id: number | bigint }> | undefined;
        for (const s of samples) {
          if (s.node !== node || s.device !== device || metrics === undefined) {
            node = s.node;
            device = s.device;
            metrics = this.metricsOf(node, device);
          }
          const hit = metrics.get(s.metric);
          const id = hit !== undefined && hit.datatype === s.datatype ? hit.id : this.seriesId(s, added);
          args.push(id, s.ts, toColumn(s.datatype, s.value), s.quality, s.historical ? 1 : 0);
          if (args.length === ROWS_PER_INSERT * 5) {
            this.insertSamples.run(args);
            args.length = 0;
          }
        }
        for (let i = 0; i < args.length; i += 5) this.insertSample.run(args.slice(i, i + 5));
        for (const r of streams) this.upsertStream.run(r.node, r.epoch, r.through, r.ranges);
        for (const [node, c] of catalogues) this.upsertCatalogue.run(node, JSON.stringify(c));
        for (const r of series) this.upsertSeriesState.run(r.node, r.device, r.metric, r.lastTs, r.birthTs, r.birthQuality, r.birthValue);
        if (checkpoint) this.markCheckpoint.run();
      })();
    } catch (e) {
      // Series ids handed out inside the rolled-back transaction do not exist.
      for (const k of added) this.seriesIds.delete(k);
      this.recent.clear();
      const code = (e as { code?: string }).code;
      throw new FieldgateError(code === 'SQLITE_FULL' ? 'FG_ERR_STORE_DISK_FULL' : 'FG_ERR_STORE_IO', `history commit of ${samples.length} samples failed, nothing was stored: ${errorMessage(e)}`, { cause: e });
    }
  }

  private metricsOf(node: string, device: string): Map<string, { datatype: number; id: number | bigint }> {
    let devices = this.recent.get(node);
    if (devices === undefined) this.recent.set(node, (devices = new Map()));
    let metrics = devices.get(device);
    if (metrics === undefined) devices.set(device, (metrics = new Map()));
    return metrics;
  }

  private seriesId(s: Sample, added: string[]): number | bigint {
    const metrics = this.metricsOf(s.node, s.device);
    const key = `${s.node}\u0000${s.device}\u0000${s.metric}\u0000${s.datatype}`;
    let id = this.seriesIds.get(key);
    if (id === undefined) {
      id = (this.insertSeries.get(s.node, s.device, s.metric, s.datatype) as { id: number }).id;
      this.seriesIds.set(key, id);
      added.push(key);
    }
    metrics.set(s.metric, { datatype: s.datatype, id });
    return id;
  }

  async *rows(f: ExportFilter): AsyncGenerator<StoredRow> {
    const where: string[] = [];
    const args: Array<string | number> = [];
    if (f.node !== undefined) (where.push('s.node = ?'), args.push(f.node));
    if (f.device !== undefined) (where.push('s.device = ?'), args.push(f.device));
    if (f.metric !== undefined) (where.push('s.metric = ?'), args.push(f.metric));
    if (f.from !== undefined) (where.push('x.ts >= ?'), args.push(f.from));
    if (f.to !== undefined) (where.push('x.ts < ?'), args.push(f.to));
    const stmt = this.db
      .prepare(`SELECT s.node, s.device, s.metric, s.datatype, x.ts, x.value, x.quality, x.historical FROM sample x JOIN series s ON s.id = x.series
                ${where.length > 0 ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY x.rowid`)
      .safeIntegers(true);
    for (const r of stmt.iterate(...args) as Iterable<Record<string, unknown>>) {
      yield {
        node: r.node as string,
        device: r.device as string,
        metric: r.metric as string,
        datatype: Number(r.datatype),
        ts: Number(r.ts),
        value: r.value as StoredRow['value'],
        quality: Number(r.quality),
        historical: Number(r.historical) === 1,
      };
    }
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
