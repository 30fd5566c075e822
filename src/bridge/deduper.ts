// The reference deduper a central consumer runs (and the tests use). Per node and epoch it
// keeps the highest gap-free sequence seen plus the ranges seen above it: with the stream in
// order that is exactly "drop anything at or below the highest sequence seen"; the ranges make
// it stay exact when live data is sent ahead of the backlog (docs/dedup.md).
//
// The consumer side of `upstream.confirm: host` (docs/store-and-forward.md): after each durable
// commit of what `accept` let through, publish every message `acks()` returns, retained at
// QoS 1; after the consumer's own (re)connect publish `acks({ all: true })`. That is the whole
// protocol: a custom back end is `accept`, commit, `acks`, publish.
import { absorbHead, addSeq } from '../shared/seq-ranges.js';
import type { DedupKey } from './dedup-key.js';

interface Stream {
  node: string;
  epoch: string;
  /** Every sequence at or below this was seen (or given up on, see maxGaps). */
  through: number;
  /** Seen ranges above `through + 1`, sorted, disjoint, not adjacent. */
  ranges: Array<[number, number]>;
  /** Below the first forced gap: the highest sequence that may be confirmed to the edge. */
  stuckAt: number | undefined;
  /** `through` last returned by acks(). */
  acked: number;
  /** Highest sequence (ranges included) last returned by acks(). */
  ackedTop: number;
  /** A duplicate at or below `acked` arrived: the edge has not seen the ack, say it again. */
  repeat: boolean;
  /** Order of last activity, for the one retained ack per node. */
  touched: number;
}

/** One message to publish, retained, at QoS 1. */
export interface AckMessage {
  topic: string;
  payload: Buffer;
  node: string;
  epoch: string;
  through: number;
}

export interface DeduperOptions {
  /**
   * Memory bound per stream. When more separate ranges are open, the lowest gap is treated as
   * seen (a record that arrives into it later would be dropped) and `forcedGaps` counts it.
   */
  maxRanges?: number;
}

/** Ranges above `through` an ack carries at most. */
const MAX_ACK_RANGES = 64;

export class Deduper {
  private readonly streams = new Map<string, Stream>();
  private readonly maxRanges: number;
  private tick = 0;
  accepted = 0;
  dropped = 0;
  forcedGaps = 0;

  constructor(options: DeduperOptions = {}) {
    this.maxRanges = options.maxRanges ?? 10_000;
  }

  /** True the first time a key is seen, false for every duplicate. */
  accept(key: DedupKey): boolean {
    const id = `${key.node}\u0000${key.epoch}`;
    let s = this.streams.get(id);
    if (s === undefined) {
      // Sequences start at 1 in every epoch. A consumer that joins mid-stream keeps one open
      // range above a gap that never fills: one entry of memory, and order-independent, so a
      // live record seen first does not shadow the backlog below it.
      s = { node: key.node, epoch: key.epoch, through: 0, ranges: [], stuckAt: undefined, acked: 0, ackedTop: 0, repeat: false, touched: 0 };
      this.streams.set(id, s);
    }
    s.touched = ++this.tick;
    const ok = addSeq(s, key.seq);
    if (ok) {
      this.accepted += 1;
      while (s.ranges.length > this.maxRanges) {
        const first = s.ranges.shift() as [number, number];
        // Never confirm the gap given up on: the edge keeps those records until they arrive.
        s.stuckAt ??= s.through;
        s.through = first[1];
        this.forcedGaps += 1;
        absorbHead(s);
      }
    } else {
      this.dropped += 1;
      if (key.seq <= s.ackedTop) s.repeat = true;
    }
    return ok;
  }

  /**
   * The acks to publish now (retained, QoS 1), one per node: for its most recently active
   * epoch, when its confirmable `through` advanced since the last call, or when it replayed
   * something already acked. Call only once everything `accept` let through is committed.
   * `all`: every node's current ack (after the consumer's own reconnect).
   */
  acks(options: { prefix?: string; all?: boolean } = {}): AckMessage[] {
    const prefix = (options.prefix ?? 'fieldgate/ack').replace(/\/+$/, '');
    const latest = new Map<string, Stream>();
    for (const s of this.streams.values()) {
      const cur = latest.get(s.node);
      if (cur === undefined || s.touched > cur.touched) latest.set(s.node, s);
    }
    const out: AckMessage[] = [];
    for (const s of latest.values()) {
      const through = s.stuckAt ?? s.through;
      const top = s.ranges.length > 0 ? (s.ranges[s.ranges.length - 1] as [number, number])[1] : through;
      if (!(options.all === true || through > s.acked || s.repeat || (s.stuckAt === undefined && top > s.ackedTop))) continue;
      s.acked = Math.max(s.acked, through);
      s.ackedTop = Math.max(s.ackedTop, top);
      s.repeat = false;
      // `above`: committed ranges past a gap, so records the edge dropped (budget, age) and will
      // never send do not keep the rest in its outbox. Optional; bounded.
      const above = s.stuckAt === undefined ? s.ranges.slice(0, MAX_ACK_RANGES).map((r) => [r[0], r[1]]) : [];
      const ack = above.length > 0 ? { epoch: s.epoch, through, above } : { epoch: s.epoch, through };
      out.push({ topic: `${prefix}/${s.node}`, payload: Buffer.from(JSON.stringify(ack)), node: s.node, epoch: s.epoch, through });
    }
    return out;
  }

  /** Highest gap-free sequence per stream, for a consumer that persists its position. */
  highWater(node: string, epoch: string): number | undefined {
    return this.streams.get(`${node}\u0000${epoch}`)?.through;
  }
}
