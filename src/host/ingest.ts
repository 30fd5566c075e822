// From a received message to a committed batch (issue 14, items 2-5): lifecycle, dedup by the
// fg key, batching, one transaction per batch, then the held PUBACKs and the confirmations.
// Batches are sealed at `maxSamples` or `maxDelay` and committed in order, one at a time; a
// failed commit is retried with the same content, so nothing after it is acknowledged first.
import { extractDedupKey } from '../bridge/dedup-key.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import { parseTopic } from '../sparkplug/topics.js';
import type { DedupLedger, StreamRow } from './dedup-ledger.js';
import type { HistoryStore } from './history-store.js';
import { decodeSparkplugFast } from './fast-decode.js';
import type { Catalogue, Lifecycle, RebirthReason } from './lifecycle.js';
import type { Sample } from './sample.js';
import type { SeriesMemory, SeriesRow } from './series-memory.js';
import type { HeldAck } from './session.js';

interface Batch {
  samples: Sample[];
  catalogues: Map<string, Catalogue>;
  acks: HeldAck[];
  messages: number;
  firstAt: number;
  streams?: StreamRow[];
  repeats?: StreamRow[];
  series?: SeriesRow[];
  /** Writes every series changed since the last checkpoint and the history's high-water mark. */
  checkpoint?: boolean;
}

export interface IngestOptions {
  store: HistoryStore;
  lifecycle: Lifecycle;
  ledger: DedupLedger;
  /** Which birth values are new, which DATA repeats a birth (src/host/series-memory.ts). */
  series: SeriesMemory;
  logger: Logger;
  maxSamples: number;
  maxDelayMs: number;
  rebirth(group: string, node: string, reason: RebirthReason): void;
  /** After each commit: every stream it advanced, and how long its oldest message waited. */
  committed(streams: readonly StreamRow[], waitedMs: number, repeats: readonly StreamRow[]): void;
  releaseAcks(acks: readonly HeldAck[]): void;
  /** Runs what a commit sends (PUBACKs, then confirmations), e.g. in one socket write. */
  afterCommit?(send: () => void): void;
  now?: () => number;
  /** Series memory checkpoint interval (src/host/series-memory.ts); default 5 s. */
  checkpointMs?: number;
}

const newBatch = (now: number): Batch => ({ samples: [], catalogues: new Map(), acks: [], messages: 0, firstAt: now });

export class Ingest {
  private open: Batch;
  private timer: NodeJS.Timeout | undefined;
  private committing: Promise<void> | undefined;
  private readonly sealed: Batch[] = [];
  private readonly now: () => number;
  private lastCheckpoint: number;
  private forceCheckpoint = false;
  stats = { messages: 0, samples: 0, stored: 0, commits: 0, commitFailures: 0, malformed: 0, dedupDrops: 0, unkeyed: 0, incompleteKeyed: 0 };

  constructor(private readonly o: IngestOptions) {
    this.now = o.now ?? Date.now;
    this.open = newBatch(this.now());
    this.lastCheckpoint = this.now();
  }

  message(topic: string, payload: Buffer, userProperties: Record<string, string | string[]> | undefined): void {
    const t = parseTopic(topic);
    if (t === undefined || t.kind === 'state') return;
    this.stats.messages += 1;
    let decoded;
    try {
      decoded = decodeSparkplugFast(payload);
    } catch (e) {
      this.stats.malformed += 1;
      this.o.logger.warn({ code: 'FG_ERR_HOST_PAYLOAD', topic, err: errorMessage(e) }, 'host: not a Sparkplug B payload, skipped');
      return;
    }
    const now = this.now();
    const outcome = this.o.lifecycle.handle(t, decoded, now);
    if (outcome.rebirth !== undefined) this.o.rebirth(t.group, t.node, outcome.rebirth);
    const b = this.open;
    if (b.messages === 0) b.firstAt = now;
    b.messages += 1;
    if (outcome.catalogueChanged) b.catalogues.set(`${t.group}/${t.node}`, this.o.lifecycle.catalogue(this.o.lifecycle.get(t.group, t.node)));
    const key = extractDedupKey({ payload, userProperties });
    if (key === undefined) {
      this.stats.unkeyed += 1;
      this.add(b, outcome.samples, outcome.birth === true);
    } else if (!outcome.complete) {
      // Not admitted: the key stays a gap, so `through` stops below it and a host-confirmed
      // edge keeps the record until it is sent again after the rebirth (docs/host.md).
      this.stats.incompleteKeyed += 1;
    } else if (this.o.ledger.admit(key)) {
      this.add(b, outcome.samples, outcome.birth === true);
    } else {
      this.stats.dedupDrops += 1;
    }
    this.schedule();
  }

  /** The PUBACK of the message just handed to `message()` travels with its batch. */
  holdAck(ack: HeldAck): void {
    this.open.acks.push(ack);
    this.schedule();
  }

  private add(b: Batch, all: Sample[], birth: boolean): void {
    if (all.length === 0) return;
    const samples = birth ? this.o.series.birth(all) : this.o.series.data(all);
    for (const s of samples) b.samples.push(s);
    this.stats.samples += samples.length;
  }

  private schedule(): void {
    if (this.open.samples.length >= this.o.maxSamples) {
      this.seal();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.seal();
    }, this.o.maxDelayMs);
  }

  /**
   * Closes the open batch and queues it for commit. The ledger's changed ranges are taken at
   * this moment: they describe exactly the keys of this batch and the sealed ones before it,
   * so batches stay at most `maxSamples` even while a slow commit is in flight, and commit in
   * order.
   */
  private seal(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const b = this.open;
    if (b.messages === 0 && b.acks.length === 0 && !this.forceCheckpoint) return;
    const now = this.now();
    this.open = newBatch(now);
    b.streams = this.o.ledger.dirty();
    b.repeats = this.o.ledger.takeRepeats();
    const births = this.o.series.takeBirths();
    b.checkpoint = this.forceCheckpoint || now - this.lastCheckpoint >= (this.o.checkpointMs ?? 5000);
    if (b.checkpoint) {
      this.lastCheckpoint = now;
      this.forceCheckpoint = false;
    }
    b.series = b.checkpoint ? this.o.series.takeCheckpoint() : births;
    this.o.ledger.clearDirty();
    this.sealed.push(b);
    this.committing ??= this.drain();
  }

  private async drain(): Promise<void> {
    try {
      for (let b = this.sealed.shift(); b !== undefined; b = this.sealed.shift()) await this.commit(b);
    } finally {
      this.committing = undefined;
    }
  }

  /** Commits everything received so far; resolves when it is durable. */
  async flush(): Promise<void> {
    this.seal();
    while (this.committing !== undefined) await this.committing;
  }

  private async commit(b: Batch): Promise<void> {
    const catalogues = [...b.catalogues];
    for (let attempt = 0; ; attempt++) {
      try {
        await this.o.store.commit(b.samples, b.streams ?? [], catalogues, b.series ?? [], b.checkpoint === true);
        break;
      } catch (e) {
        this.stats.commitFailures += 1;
        // Nothing of this batch is acknowledged or confirmed until it is stored: retry it as it is.
        this.o.logger.error({ code: (e as { code?: string }).code ?? 'FG_ERR_STORE_IO', err: errorMessage(e), samples: b.samples.length, attempt }, 'host: history commit failed, retrying');
        await new Promise((r) => setTimeout(r, Math.min(5000, 200 * 2 ** attempt)));
      }
    }
    this.stats.commits += 1;
    this.stats.stored += b.samples.length;
    (this.o.afterCommit ?? ((send: () => void) => send()))(() => {
      this.o.releaseAcks(b.acks);
      if ((b.streams ?? []).length > 0 || (b.repeats ?? []).length > 0) this.o.committed(b.streams ?? [], this.now() - b.firstAt, b.repeats ?? []);
    });
  }

  async stop(): Promise<void> {
    this.forceCheckpoint = true;
    await this.flush();
  }
}
