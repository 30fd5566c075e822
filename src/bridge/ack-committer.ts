// Makes acknowledgements durable: acks received from the upstream are collected and committed
// to the outbox in batched transactions. A record's window slot is freed only once its ack is
// committed, so after a crash at most one window is sent again.
import type { Logger } from '../observe/logger.js';
import { errorMessage } from '../errors.js';
import type { Outbox } from '../store/outbox.js';
import { toRanges } from '../store/outbox.js';

/** Longest an ack waits for others to share its transaction. */
const ACK_BATCH_WAIT_MS = 2;
/** Smallest batch worth waiting for. */
const MIN_ACK_BATCH = 64;

export interface AckCommitterHooks {
  outbox: Pick<Outbox, 'ack'>;
  log: Logger;
  /** Records in the window, acked or not. */
  inflight: () => number;
  /** This session's window. */
  window: () => number;
  /** Their acks are committed (or failed to commit: they stay in the outbox): free their slots. */
  committed: (seqs: number[]) => void;
  /** Asks the drain for another pass: slots may be free, or a fence may be due. */
  pump: () => void;
}

export class AckCommitter {
  private pending: number[] = [];
  private scheduled: ReturnType<typeof setImmediate> | undefined;
  // Real time, like the setImmediate above: a test's fake clock must not hold acks back.
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly h: AckCommitterHooks) {}

  /** An ack to commit with those that arrive in the same turn of the event loop. */
  record(seq: number): void {
    this.pending.push(seq);
    if (this.scheduled === undefined) {
      this.scheduled = setImmediate(() => {
        this.scheduled = undefined;
        this.maybeCommit();
      });
    }
  }

  /**
   * Acks are committed in batches of a quarter window: each transaction has a fixed cost (state
   * row, WAL frames for every page it touched, the commit; ~100 us here) that at ~50 acks per
   * read of the socket was a third of the drain's CPU. The batch waits for more acks only while
   * at least a batch more is outstanding, and for ACK_BATCH_WAIT_MS at most: a broker that
   * leaves Nagle on (mosquitto's default) holds its next PUBACKs until our side sends something,
   * which a waiting drain does not, so every wait can cost its full length. Windows below
   * MIN_ACK_BATCH * 4 commit every read as before: their round trips, not commits, bound them.
   */
  private maybeCommit(): void {
    const acked = this.pending.length;
    const outstanding = this.h.inflight() - acked;
    const batch = this.h.window() >> 2;
    if (batch >= MIN_ACK_BATCH && acked < batch && outstanding >= batch) {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.commitNow();
        this.h.pump();
      }, ACK_BATCH_WAIT_MS);
      // Whatever the window still has room for goes now, and so does the ack fence for QoS 0
      // records written meanwhile: their acks may be among those the batch waits for.
      this.h.pump();
      return;
    }
    this.commitNow();
    this.h.pump();
  }

  /**
   * One transaction for every ack received since the last one; frees their window slots.
   * Cancels any pending batch, so nothing of this committer outlives a call at stop.
   */
  commitNow(): void {
    if (this.scheduled !== undefined) {
      clearImmediate(this.scheduled);
      this.scheduled = undefined;
    }
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending.length === 0) return;
    const seqs = this.pending;
    this.pending = [];
    try {
      this.h.outbox.ack(ackRanges(seqs));
    } catch (e) {
      // Not persisted: the records stay and are sent again after the next reconnect.
      this.h.log.error({ err: errorMessage(e), code: (e as { code?: string }).code, count: seqs.length }, 'could not record acknowledgements');
    }
    this.h.committed(seqs);
  }
}

/** Acks mostly arrive in sequence order: ranges without the copy and sort `toRanges` does. */
function ackRanges(seqs: number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let last: [number, number] | undefined;
  for (const s of seqs) {
    if (last !== undefined && s < last[1]) return toRanges(seqs);
    if (last !== undefined && s === last[1] + 1) last[1] = s;
    else if (last === undefined || s > last[1]) {
      last = [s, s];
      out.push(last);
    }
  }
  return out;
}
