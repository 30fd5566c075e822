// The host's history in PostgreSQL (issue 14, "the second store for central installations"):
// the same tables and the same guarantee as SQLite. One transaction per batch holds the
// samples, the dedup ranges that admitted them and the births' catalogues.
import pg from 'pg';
import { FieldgateError, errorMessage } from '../errors.js';
import type { Catalogue } from './lifecycle.js';
import type { StreamRow } from './dedup-ledger.js';
import { toColumn, type Column } from './value-codec.js';
import type { Sample } from './sample.js';
import { mergeRecent, type SeriesRow } from './series-memory.js';
import type { ExportFilter, HistoryStore, StoredRow } from './history-store.js';

// PostgreSQL types a column once; a Sparkplug value is one of several. Keep each kind in its
// own column (at most one set per row), so integers stay exact and reals stay binary.
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS series (id BIGSERIAL PRIMARY KEY, node TEXT NOT NULL, device TEXT NOT NULL, metric TEXT NOT NULL, datatype INTEGER NOT NULL,
                                     UNIQUE (node, device, metric, datatype));
  CREATE TABLE IF NOT EXISTS sample (series BIGINT NOT NULL, ts BIGINT NOT NULL, v_int NUMERIC, v_real DOUBLE PRECISION, v_text TEXT, v_bytes BYTEA,
                                     quality INTEGER NOT NULL, historical BOOLEAN NOT NULL, id BIGSERIAL PRIMARY KEY);
  CREATE TABLE IF NOT EXISTS dedup_stream (node TEXT NOT NULL, epoch TEXT NOT NULL, through BIGINT NOT NULL, ranges TEXT NOT NULL, PRIMARY KEY (node, epoch));
  CREATE TABLE IF NOT EXISTS node_catalogue (node TEXT PRIMARY KEY, catalogue TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS series_state (node TEXT NOT NULL, device TEXT NOT NULL, metric TEXT NOT NULL, last_ts BIGINT NOT NULL,
                                           birth_ts BIGINT, birth_quality INTEGER, birth_value TEXT, PRIMARY KEY (node, device, metric));
  CREATE TABLE IF NOT EXISTS host_meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL);
`;

/** Float (9) and Double (10): Sparkplug datatype codes (spec 6.4.16). */
const isReal = (datatype: number): boolean => datatype === 9 || datatype === 10;

/**
 * The column follows the series' datatype, not the value: a Double of 5 is a real (it was a
 * NUMERIC parsed from text and read back as an integer before), an integer type stays exact in
 * NUMERIC, a UInt64 above the int64 range too (toColumn hands it over as its decimal text).
 */
function columns(datatype: number, c: Column): [string | null, number | null, string | null, Buffer | null] {
  if (c === null) return [null, null, null, null];
  if (typeof c === 'number') return isReal(datatype) || !Number.isInteger(c) ? [null, c, null, null] : [String(c), null, null, null];
  if (typeof c === 'bigint') return [c.toString(), null, null, null];
  if (Buffer.isBuffer(c)) return [null, null, null, c];
  return datatype === 8 && /^\d+$/.test(c) ? [c, null, null, null] : [null, null, c, null];
}

/**
 * A PostgreSQL array literal of numbers, digit strings or 't'/'f' (nothing to quote or
 * escape: the same text pg would send, without its per-element checks).
 */
function literal(a: ReadonlyArray<number | string | null>): string {
  let out = '{';
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (i > 0) out += ',';
    out += v === null || v === undefined ? 'NULL' : typeof v === 'number' && !Number.isFinite(v) ? (Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity') : String(v);
  }
  return out + '}';
}

const nulls = (n: number): string => `{${'NULL,'.repeat(n - 1)}NULL}`;

export class PgHistory implements HistoryStore {
  private readonly pool: pg.Pool;
  private readonly seriesIds = new Map<string, string>();
  /** node → device → metric → the series last used: no key string built per sample. */
  private readonly recent = new Map<string, Map<string, Map<string, { datatype: number; id: string }>>>();

  private constructor(url: string) {
    this.pool = new pg.Pool({ connectionString: url, max: 2 });
    // An idle client that loses its server must not crash the host; the next query reports it.
    this.pool.on('error', () => undefined);
  }

  static async open(url: string): Promise<PgHistory> {
    const h = new PgHistory(url);
    try {
      await h.pool.query(SCHEMA);
      for (const r of (await h.pool.query<{ id: string; node: string; device: string; metric: string; datatype: number }>('SELECT id, node, device, metric, datatype FROM series')).rows) {
        h.seriesIds.set(`${r.node}\u0000${r.device}\u0000${r.metric}\u0000${r.datatype}`, r.id);
      }
    } catch (e) {
      await h.pool.end().catch(() => undefined);
      // The URL may hold a password: name the failure, not the URL.
      throw new FieldgateError('FG_ERR_STORE_OPEN', `cannot open the PostgreSQL history: ${errorMessage(e)}`, { cause: e });
    }
    return h;
  }

  async streams(): Promise<StreamRow[]> {
    return (await this.pool.query<{ node: string; epoch: string; through: string; ranges: string }>('SELECT node, epoch, through, ranges FROM dedup_stream')).rows.map((r) => ({ ...r, through: Number(r.through) }));
  }

  async catalogues(): Promise<Array<[string, Catalogue]>> {
    return (await this.pool.query<{ node: string; catalogue: string }>('SELECT node, catalogue FROM node_catalogue')).rows.map((r) => [r.node, JSON.parse(r.catalogue) as Catalogue]);
  }

  async seriesState(): Promise<SeriesRow[]> {
    const r = await this.pool.query<{ node: string; device: string; metric: string; last_ts: string; birth_ts: string | null; birth_quality: number | null; birth_value: string | null }>(
      'SELECT node, device, metric, last_ts, birth_ts, birth_quality, birth_value FROM series_state',
    );
    const rows = r.rows.map((x) => ({ node: x.node, device: x.device, metric: x.metric, lastTs: Number(x.last_ts), birthTs: x.birth_ts === null ? null : Number(x.birth_ts), birthQuality: x.birth_quality, birthValue: x.birth_value }));
    const mark = (await this.pool.query<{ value: string }>("SELECT value FROM host_meta WHERE key = 'series_checkpoint'")).rows[0]?.value ?? '0';
    // Commits are serial, so ids past the mark are exactly the samples since the checkpoint.
    const recent = await this.pool.query<{ node: string; device: string; metric: string; ts: string }>(
      'SELECT s.node, s.device, s.metric, MAX(x.ts) AS ts FROM sample x JOIN series s ON s.id = x.series WHERE x.id > $1 GROUP BY s.node, s.device, s.metric',
      [mark],
    );
    return mergeRecent(rows, recent.rows.map((x) => ({ ...x, ts: Number(x.ts) })));
  }

  async commit(samples: readonly Sample[], streams: readonly StreamRow[], catalogues: ReadonlyArray<[string, Catalogue]>, series: readonly SeriesRow[] = [], checkpoint = false): Promise<void> {
    const client = await this.pool.connect();
    const added: string[] = [];
    try {
      await client.query('BEGIN');
      // One statement per batch: eight arrays unnested server-side. A multi-row VALUES list
      // with 8 parameters a row ran at ~15k samples/s (pg serialises and the server plans
      // every parameter); arrays are one parameter each. The number and boolean arrays are
      // written as array literals here (pg's generic array serialiser escapes every element),
      // the text and bytes arrays only when a value is there (issue 14 bench).
      const n = samples.length;
      const ids: string[] = new Array<string>(n);
      const ts: number[] = new Array<number>(n);
      const vi: Array<string | null> = new Array<string | null>(n);
      const vr: Array<number | null> = new Array<number | null>(n);
      const vt: Array<string | null> = new Array<string | null>(n);
      const vb: Array<Buffer | null> = new Array<Buffer | null>(n);
      const q: number[] = new Array<number>(n);
      const h: string[] = new Array<string>(n);
      let texts = 0;
      let bytes = 0;
      // Samples come in runs of one message (one node and device): look those up once a run.
      let node: string | undefined;
      let device: string | undefined;
      let metrics: Map<string, { datatype: number; id: string }> | undefined;
      for (let i = 0; i < n; i++) {
        const s = samples[i] as Sample;
        if (s.node !== node || s.device !== device || metrics === undefined) {
          node = s.node;
          device = s.device;
          metrics = this.metricsOf(node, device);
        }
        const hit = metrics.get(s.metric);
        let id = hit !== undefined && hit.datatype === s.datatype ? hit.id : undefined;
        if (id === undefined) {
          const key = `${s.node}\u0000${s.device}\u0000${s.metric}\u0000${s.datatype}`;
          id = this.seriesIds.get(key);
          if (id === undefined) {
            const r = await client.query<{ id: string }>(
              'INSERT INTO series (node, device, metric, datatype) VALUES ($1, $2, $3, $4) ON CONFLICT (node, device, metric, datatype) DO UPDATE SET datatype = EXCLUDED.datatype RETURNING id',
              [s.node, s.device, s.metric, s.datatype],
            );
            id = (r.rows[0] as { id: string }).id;
            this.seriesIds.set(key, id);
            added.push(key);
          }
          metrics.set(s.metric, { datatype: s.datatype, id });
        }
        const [ci, cr, ct, cb] = columns(s.datatype, toColumn(s.datatype, s.value));
        ids[i] = id;
        ts[i] = s.ts;
        vi[i] = ci;
        vr[i] = cr;
        vt[i] = ct;
        vb[i] = cb;
        if (ct !== null) texts += 1;
        if (cb !== null) bytes += 1;
        q[i] = s.quality;
        h[i] = s.historical ? 't' : 'f';
      }
      if (n > 0) {
        await client.query(
          'INSERT INTO sample (series, ts, v_int, v_real, v_text, v_bytes, quality, historical) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::numeric[], $4::float8[], $5::text[], $6::bytea[], $7::int[], $8::bool[])',
          [literal(ids), literal(ts), literal(vi), literal(vr), texts > 0 ? vt : nulls(n), bytes > 0 ? vb : nulls(n), literal(q), literal(h)],
        );
      }
      for (const r of streams) {
        await client.query('INSERT INTO dedup_stream (node, epoch, through, ranges) VALUES ($1, $2, $3, $4) ON CONFLICT (node, epoch) DO UPDATE SET through = EXCLUDED.through, ranges = EXCLUDED.ranges', [r.node, r.epoch, r.through, r.ranges]);
      }
      for (const [node, c] of catalogues) {
        await client.query('INSERT INTO node_catalogue (node, catalogue) VALUES ($1, $2) ON CONFLICT (node) DO UPDATE SET catalogue = EXCLUDED.catalogue', [node, JSON.stringify(c)]);
      }
      if (series.length > 0) {
        // One statement for every series the batch advanced (arrays, as for the samples).
        await client.query(
          `INSERT INTO series_state (node, device, metric, last_ts, birth_ts, birth_quality, birth_value)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::int[], $7::text[])
           ON CONFLICT (node, device, metric) DO UPDATE SET last_ts = EXCLUDED.last_ts, birth_ts = EXCLUDED.birth_ts, birth_quality = EXCLUDED.birth_quality, birth_value = EXCLUDED.birth_value`,
          [series.map((r) => r.node), series.map((r) => r.device), series.map((r) => r.metric), series.map((r) => r.lastTs), series.map((r) => r.birthTs), series.map((r) => r.birthQuality), series.map((r) => r.birthValue)],
        );
      }
      if (checkpoint) {
        await client.query("INSERT INTO host_meta (key, value) SELECT 'series_checkpoint', COALESCE(MAX(id), 0) FROM sample ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value");
      }
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      for (const k of added) this.seriesIds.delete(k);
      // Series ids handed out inside the rolled-back transaction do not exist.
      this.recent.clear();
      throw new FieldgateError('FG_ERR_STORE_IO', `history commit of ${samples.length} samples failed, nothing was stored: ${errorMessage(e)}`, { cause: e });
    } finally {
      client.release();
    }
  }

  private metricsOf(node: string, device: string): Map<string, { datatype: number; id: string }> {
    let devices = this.recent.get(node);
    if (devices === undefined) this.recent.set(node, (devices = new Map()));
    let metrics = devices.get(device);
    if (metrics === undefined) devices.set(device, (metrics = new Map()));
    return metrics;
  }

  async *rows(f: ExportFilter): AsyncGenerator<StoredRow> {
    const where: string[] = [];
    const args: Array<string | number> = [];
    const add = (sql: string, v: string | number): void => {
      args.push(v);
      where.push(sql.replace('?', `$${args.length}`));
    };
    if (f.node !== undefined) add('s.node = ?', f.node);
    if (f.device !== undefined) add('s.device = ?', f.device);
    if (f.metric !== undefined) add('s.metric = ?', f.metric);
    if (f.from !== undefined) add('x.ts >= ?', f.from);
    if (f.to !== undefined) add('x.ts < ?', f.to);
    // Pages by id: a year of history never sits in memory.
    let after = '0';
    for (;;) {
      const r = await this.pool.query<{ id: string; node: string; device: string; metric: string; datatype: number; ts: string; v_int: string | null; v_real: number | null; v_text: string | null; v_bytes: Buffer | null; quality: number; historical: boolean }>(
        `SELECT x.id, s.node, s.device, s.metric, s.datatype, x.ts, x.v_int, x.v_real, x.v_text, x.v_bytes, x.quality, x.historical FROM sample x JOIN series s ON s.id = x.series
         WHERE x.id > $${args.length + 1} ${where.length > 0 ? 'AND ' + where.join(' AND ') : ''} ORDER BY x.id LIMIT 5000`,
        [...args, after],
      );
      for (const row of r.rows) {
        yield {
          node: row.node,
          device: row.device,
          metric: row.metric,
          datatype: row.datatype,
          ts: Number(row.ts),
          value: row.v_int !== null ? BigInt(row.v_int) : row.v_real ?? row.v_text ?? row.v_bytes ?? null,
          quality: row.quality,
          historical: row.historical,
        };
      }
      if (r.rows.length < 5000) return;
      after = (r.rows.at(-1) as { id: string }).id;
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
