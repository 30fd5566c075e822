// The two Sparkplug counters. `seq` numbers every message of one session except NDEATH and
// wraps 255 → 0 [tck-id-payloads-sequence-num-incrementing]; NBIRTH resets it to 0
// [tck-id-payloads-nbirth-seq]. `bdSeq` numbers sessions: one more on every CONNECT, 0-255,
// persisted so that a restart continues it [tck-id-payloads-nbirth-bdseq-repeat].

export class SeqCounter {
  private next = 0;

  /** For NBIRTH: seq 0, and the next message gets 1. */
  reset(): number {
    this.next = 1;
    return 0;
  }

  take(): number {
    const s = this.next;
    this.next = (this.next + 1) % 256;
    return s;
  }

  peek(): number {
    return this.next;
  }
}

/** Where bdSeq lives between runs: the store in production, memory in tests. */
export interface BdSeqStore {
  load(): number | undefined;
  save(value: number): void;
}

export class MemoryBdSeqStore implements BdSeqStore {
  constructor(private value: number | undefined = undefined) {}
  load(): number | undefined {
    return this.value;
  }
  save(value: number): void {
    this.value = value;
  }
}

export class BdSeq {
  private current: number | undefined;

  constructor(private readonly store: BdSeqStore) {}

  /**
   * The bdSeq for the next CONNECT's Will: persisted before the CONNECT goes out, so a crash
   * after it can never reuse the number. The first session ever uses 0.
   */
  nextForConnect(): number {
    const last = this.store.load();
    const value = last === undefined ? 0 : (last + 1) % 256;
    this.store.save(value);
    this.current = value;
    return value;
  }

  /** The bdSeq of the session in progress (its NBIRTH must repeat it). */
  get value(): number {
    if (this.current === undefined) throw new Error('no session yet: call nextForConnect() first');
    return this.current;
  }
}
