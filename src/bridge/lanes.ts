// Where the drain stands in the outbox. At each session start the outbox's last sequence L
// splits it in two lanes: live (above L, sent as soon as appended, unpaced) and backlog (at or
// below L, in sequence order, paced). Each lane is in sequence order on the wire.
import type { Outbox, OutboxRecord } from '../store/outbox.js';

const LIVE_CHUNK = 256;
// Backlog rows are read this many at a time and served from memory: one query per 1,024 records
// instead of two per ack batch.
const BACKLOG_READ_AHEAD = 1024;

export class Lanes {
  liveFrom = 0;
  liveCursor = 0;
  backlogCursor = 0;
  private buffer: OutboxRecord[] = [];
  private index = 0;
  /** Set by every append; the live lane queries the store only when something may be new. */
  private liveDirty = true;

  constructor(private readonly outbox: Outbox) {}

  /** A new session: everything held is backlog, everything appended from now on is live. */
  reset(): void {
    const st = this.outbox.stats();
    this.liveFrom = st.lastSeq;
    this.liveCursor = st.lastSeq;
    this.backlogCursor = st.ackedThrough;
    this.buffer = [];
    this.index = 0;
    this.liveDirty = true;
  }

  appended(): void {
    this.liveDirty = true;
  }

  /** Up to `room` live records not yet sent this session, consumed. */
  takeLive(room: number): OutboxRecord[] {
    if (!this.liveDirty) return [];
    const limit = Math.min(room, LIVE_CHUNK);
    const live = this.outbox.read(this.liveCursor, limit);
    // Only an empty read means caught up: a read may stop short of `limit` (a byte bound).
    if (live.length === 0) this.liveDirty = false;
    const last = live[live.length - 1];
    if (last !== undefined) this.liveCursor = last.seq;
    return live;
  }

  /** The next backlog record (not consumed: pacing may hold it back), or undefined when done. */
  peekBacklog(): OutboxRecord | undefined {
    const through = this.outbox.ackedThrough();
    for (let pass = 0; pass < 2; pass++) {
      // Rows read ahead may since have been evicted by the budget or expired (both from the
      // head, so at or below ackedThrough): skip them, they were counted as dropped.
      while (this.index < this.buffer.length && (this.buffer[this.index]?.seq ?? 0) <= through) this.index++;
      const r = this.buffer[this.index];
      if (r !== undefined) return r;
      if (this.backlogCursor >= this.liveFrom) return undefined;
      this.buffer = this.outbox.read(Math.max(this.backlogCursor, through), BACKLOG_READ_AHEAD).filter((x) => x.seq <= this.liveFrom);
      this.index = 0;
      if (this.buffer.length === 0) {
        this.backlogCursor = this.liveFrom;
        return undefined;
      }
    }
    return undefined;
  }

  /** Marks the record `peekBacklog` returned as sent. */
  consumeBacklog(r: OutboxRecord): void {
    this.index++;
    this.backlogCursor = r.seq;
  }
}
