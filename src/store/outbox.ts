// The durable outbox between production and the network. Records are opaque to it: the
// Sparkplug layer keeps values and encodes them when sent (seq and aliases belong to one MQTT
// session), so a record has a `kind` that tells the bridge's sender how to turn it into a
// PUBLISH. Every implementation passes `test/contracts/outbox-suite.ts`.

export type QoS = 0 | 1 | 2;

export type OnFull = 'drop-oldest' | 'reject-new';

export interface OutboxRecordInput {
  /** How the bridge sends it, e.g. `mqtt` (as is) or `sparkplug` (encoded at send time). */
  kind: string;
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain?: boolean;
  /** Wall-clock milliseconds; default: the outbox clock at append. Drives `maxAge`. */
  createdAt?: number;
}

export interface OutboxRecord {
  /**
   * Monotonic per epoch, never reused, 64-bit in SQLite. Exposed as a JS number: exact up to
   * 2^53, which is 2,800 years at 100,000 records/s.
   */
  seq: number;
  kind: string;
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  createdAt: number;
  /** What this record counts against `maxBytes` (see `recordBytes`). */
  bytes: number;
}

export interface AppendResult {
  /** One entry per input, in order: its sequence, or null when `reject-new` refused it. */
  seqs: Array<number | null>;
  /** Older records evicted by `drop-oldest` to make room for these. */
  evicted: number;
}

export interface DropCounters {
  /** Evicted by `drop-oldest` because of `maxBytes`. */
  budget: number;
  /** Deleted unsent because older than `maxAge`. */
  age: number;
  /** Refused at append by `reject-new`. */
  rejected: number;
}

export interface OutboxStats {
  epoch: string;
  /** Records held (not yet acknowledged). */
  depth: number;
  /** Sum of `bytes` of the records held. */
  bytes: number;
  /** Highest sequence ever assigned in this epoch (0 before the first). */
  lastSeq: number;
  /** Every sequence at or below this has left the store (acknowledged or dropped). */
  ackedThrough: number;
  oldestCreatedAt: number | null;
  /** Since the epoch began; persisted. */
  dropped: DropCounters;
}

export interface OutboxLimits {
  maxBytes: number;
  maxAgeMs: number;
  onFull: OnFull;
}

/**
 * What the byte budget says to a new record of `bytes` while `used` bytes are held: store it,
 * refuse it (`reject-new`, or a record larger than the whole budget), or make room by
 * evicting the oldest (`drop-oldest`). The one rule both outboxes apply.
 */
export function budgetRoom(limits: OutboxLimits, used: number, bytes: number): 'fits' | 'reject' | 'evict' {
  if (used + bytes <= limits.maxBytes) return 'fits';
  return limits.onFull === 'reject-new' || bytes > limits.maxBytes ? 'reject' : 'evict';
}

export interface Outbox {
  readonly epoch: string;
  /**
   * Appends in one transaction: when this returns, every record with a sequence is durable
   * (accepted). Throws FG_ERR_STORE_DISK_FULL / FG_ERR_STORE_IO and then accepts none of them.
   */
  append(records: readonly OutboxRecordInput[]): AppendResult;
  /** Held records with `seq > afterSeq`, in sequence order, at most `limit` of them. */
  read(afterSeq: number, limit: number): OutboxRecord[];
  /**
   * Acknowledged by the upstream: deletes these sequences (inclusive ranges) and advances the
   * persisted high-water mark over every gap-free prefix. Rows are deleted only here, by the
   * budget policy, or by `maxAge`, never before.
   */
  ack(ranges: ReadonlyArray<readonly [number, number]>): void;
  /** `ack([[0, seq]])`. */
  ackThrough(seq: number): void;
  /** `stats().ackedThrough` without the rest: cheap enough to call per record. */
  ackedThrough(): number;
  /** Deletes records older than `maxAge` (counted); returns how many. */
  expire(): number;
  stats(): OutboxStats;
  /** Called after every successful append (the bridge wakes up on it). Returns an unsubscribe. */
  onAppend(listener: () => void): () => void;
  close(): void;
}

// What one record costs against `maxBytes`: the space its row takes in the SQLite file, so the
// budget bounds the file and not just the payloads. A row is a b-tree cell: payload, topic and
// kind plus CELL_FIXED_BYTES (record header of 8 columns, rowid and length varints, the integer
// columns) and a 2-byte cell pointer, on 4 KiB leaf pages that hold a whole number of cells; the
// page's leftover is charged to its rows. 1% covers interior b-tree pages. Rows above the local
// payload limit spill into overflow pages, charged whole. Checked against real files in
// database.test.ts ("charges at least the file space a record takes") for payloads 0-5000 B.
const PAGE_BYTES = 4096;
const LEAF_USABLE = PAGE_BYTES - 8; // leaf page header
const MAX_LOCAL = PAGE_BYTES - 35; // largest cell kept on the leaf page
const MIN_LOCAL = 489; // what stays on the leaf when a cell spills
const OVERFLOW_USABLE = PAGE_BYTES - 4; // next-page pointer
export const CELL_FIXED_BYTES = 32;

export function recordBytes(r: Pick<OutboxRecordInput, 'kind' | 'topic' | 'payload'>): number {
  const cell = CELL_FIXED_BYTES + Buffer.byteLength(r.topic) + Buffer.byteLength(r.kind) + r.payload.length;
  if (cell <= MAX_LOCAL) {
    const perPage = Math.max(1, Math.floor(LEAF_USABLE / (cell + 2)));
    return Math.ceil((PAGE_BYTES / perPage) * 1.01);
  }
  // SQLite keeps K = M + (P - M) % (U - 4) bytes on the leaf when that fits, else M [fileformat 1.6].
  const k = MIN_LOCAL + ((cell - MIN_LOCAL) % OVERFLOW_USABLE);
  const local = k <= MAX_LOCAL ? k : MIN_LOCAL;
  const overflowPages = Math.ceil((cell - local) / OVERFLOW_USABLE);
  const perPage = Math.max(1, Math.floor(LEAF_USABLE / (local + 4 + 2)));
  return overflowPages * PAGE_BYTES + Math.ceil((PAGE_BYTES / perPage) * 1.01);
}

/** Sorted, merged inclusive ranges from a list of sequences (acks arrive in any order). */
export function toRanges(seqs: Iterable<number>): Array<[number, number]> {
  const sorted = [...seqs].sort((a, b) => a - b);
  const out: Array<[number, number]> = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && s <= last[1] + 1) last[1] = Math.max(last[1], s);
    else out.push([s, s]);
  }
  return out;
}
