// The durable outbox between production and the network. Records are opaque to it: the
// Sparkplug layer keeps values and encodes them when sent (seq and aliases belong to one MQTT
// session), so a record has a `kind` that tells the bridge's sender how to turn it into a
// PUBLISH. Every implementation passes `outbox-suite.ts`.

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
  /** Deletes records older than `maxAge` (counted); returns how many. */
  expire(): number;
  stats(): OutboxStats;
  /** Called after every successful append (the bridge wakes up on it). Returns an unsubscribe. */
  onAppend(listener: () => void): () => void;
  close(): void;
}

// Per-row cost on top of topic, kind and payload bytes: SQLite's cell header, rowid and the
// integer columns, plus the b-tree's page slack. Measured with `bench/row-overhead.ts`-style
// fills (see store.test.ts "file stays within the budget"): about 30 bytes, rounded up so the
// accounted total bounds the file.
export const ROW_OVERHEAD_BYTES = 48;

export function recordBytes(r: Pick<OutboxRecordInput, 'kind' | 'topic' | 'payload'>): number {
  return ROW_OVERHEAD_BYTES + Buffer.byteLength(r.topic) + Buffer.byteLength(r.kind) + r.payload.length;
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
