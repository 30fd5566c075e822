// The outbox's read path: records in sequence order after a given sequence. The batched read
// is the drain's hot path; the per-row read is its fallback when the batch cannot be trusted.
import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from './database.js';
import type { OutboxRecord, QoS } from './outbox.js';

/** seq, kind, topic, payload, qos, retain, created_at, bytes */
type RawRow = [number, string, string, Buffer, number, number, number, number];
/** seq, kind, topic, payload length, qos, retain, created_at, bytes (one element of `readRange`'s JSON) */
type MetaRow = [number, string, string, number, number, number, number, number];

export class OutboxReader {
  // raw(): arrays instead of objects. The per-row read, used when the batched one below
  // cannot be trusted (see `read`).
  private readonly perRow: Statement;
  // The drain's read: one row for a range of sequences. better-sqlite3 makes a fresh Buffer
  // (its own ArrayBuffer) per BLOB cell and sets each row cell through the C++ API: 2.6-3.6
  // us per record, more than a third of what the drain may spend on one. Here the small
  // columns come as one JSON string (JSON.parse is V8's fastest way to make objects) and
  // the payloads as one BLOB back to back, sliced by length without a copy: ~1.1 us. Both
  // aggregates run over the same scan, so the payloads are in the order of the JSON rows;
  // `readBatched` checks that order is ascending and that the lengths add up.
  // group_concat copies a BLOB's bytes unchanged in a UTF-8 database (a BLOB read as text
  // is its bytes in the database encoding) and CAST AS BLOB takes the bytes back.
  private readonly readRange: Statement;
  private readonly nextSeq: Statement;
  /** The batched read relies on BLOB-as-text being the bytes themselves: true in UTF-8 only. */
  private readonly utf8: boolean;

  constructor(db: SqliteDatabase) {
    this.perRow = db.prepare('SELECT seq, kind, topic, payload, qos, retain, created_at, bytes FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?').raw(true);
    this.readRange = db
      .prepare(
        "SELECT json_group_array(json_array(seq, kind, topic, length(payload), qos, retain, created_at, bytes)), CAST(group_concat(payload, '') AS BLOB) FROM outbox WHERE seq > ? AND seq <= ?",
      )
      .raw(true);
    this.nextSeq = db.prepare('SELECT MIN(seq) FROM outbox WHERE seq > ?').pluck(true);
    this.utf8 = String(db.pragma('encoding', { simple: true })).toUpperCase() === 'UTF-8';
  }

  read(afterSeq: number, limit: number): OutboxRecord[] {
    try {
      const batched = this.readBatched(afterSeq, limit);
      if (batched !== undefined) return batched;
    } catch (e) {
      // A range whose payloads add up beyond SQLite's value limit (1 GB): row by row.
      if ((e as { code?: unknown }).code !== 'SQLITE_TOOBIG') throw e;
    }
    return (this.perRow.all(afterSeq, limit) as RawRow[]).map(fromRow);
  }

  /**
   * The batched read over sequences (afterSeq, afterSeq + limit]: fewer rows than `limit` where
   * that range has gaps, never none while rows above `afterSeq` exist. Undefined when it cannot
   * be trusted (then rows are read one by one).
   */
  private readBatched(afterSeq: number, limit: number): OutboxRecord[] | undefined {
    if (!this.utf8 || limit <= 0) return undefined;
    let [json, blob] = this.readRange.get(afterSeq, afterSeq + limit) as [string, Buffer | null];
    if (json === '[]') {
      // A gap wider than the range (acknowledged live records, evictions): jump over it.
      const next = this.nextSeq.get(afterSeq) as number | null;
      if (next === null) return [];
      [json, blob] = this.readRange.get(next - 1, next - 1 + limit) as [string, Buffer | null];
    }
    const meta = JSON.parse(json) as MetaRow[];
    // group_concat of only empty BLOBs is an empty text, CAST to an empty BLOB; NULL for no rows.
    const bytes = blob ?? Buffer.alloc(0);
    const out = new Array<OutboxRecord>(meta.length);
    let off = 0;
    let prev = afterSeq;
    for (let i = 0; i < meta.length; i++) {
      const r = meta[i] as MetaRow;
      if (r[0] <= prev) return undefined;
      prev = r[0];
      // A view into the range's one Buffer: it lives as long as any record of the range does.
      const payload = bytes.subarray(off, off + r[3]);
      off += r[3];
      out[i] = { seq: r[0], kind: r[1], topic: r[2], payload, qos: r[4] as QoS, retain: r[5] === 1, createdAt: r[6], bytes: r[7] };
    }
    return off === bytes.length ? out : undefined;
  }
}

function fromRow(r: RawRow): OutboxRecord {
  return { seq: r[0], kind: r[1], topic: r[2], payload: r[3], qos: r[4] as QoS, retain: r[5] === 1, createdAt: r[6], bytes: r[7] };
}
