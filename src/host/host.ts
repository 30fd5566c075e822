// `fieldgate host run` (issue 14): the composition root of the central side. Session (STATE,
// subscriptions, held PUBACKs) → ingest (lifecycle, dedup, batches) → history store; after each
// commit the `upstream.confirm: host` acknowledgement for every stream it advanced.
import type { HostConfig } from '../config/sections/host.js';
import type { Logger } from '../observe/logger.js';
import { DedupLedger, type StreamRow } from './dedup-ledger.js';
import type { HistoryStore } from './history-store.js';
import { Ingest } from './ingest.js';
import { Lifecycle } from './lifecycle.js';
import { openHistory } from './open-history.js';
import { RebirthLimiter } from './rebirth.js';
import { SeriesMemory } from './series-memory.js';
import { HostSession } from './session.js';
import { HostHttp } from './http.js';

/** Ranges an ack carries at most, as the reference consumer (src/bridge/deduper.ts on i13). */
const MAX_ACK_RANGES = 64;

export interface NodeConfirmation {
  epoch: string;
  through: number;
  /** Highest sequence committed, gaps or not. */
  top: number;
  above: Array<[number, number]>;
  at: number;
  /** ms between the first message of the batch and its confirmation. */
  lagMs: number;
}

export class Host {
  readonly lifecycle = new Lifecycle();
  readonly confirmations = new Map<string, NodeConfirmation>();
  ledger!: DedupLedger;
  ingest!: Ingest;
  session: HostSession | undefined;
  rebirths!: RebirthLimiter;
  private store: HistoryStore | undefined;
  private http: HostHttp | undefined;
  readonly startedAt = Date.now();

  constructor(
    readonly cfg: HostConfig,
    private readonly logger: Logger,
  ) {}

  get httpPort(): number | undefined {
    return this.http?.port;
  }

  async start(): Promise<void> {
    const store = await openHistory(this.cfg, this.logger);
    this.store = store;
    this.ledger = new DedupLedger(await store.streams());
    for (const [node, c] of await store.catalogues()) this.lifecycle.restore(node, c);
    this.rebirths = new RebirthLimiter(this.cfg.rebirthInterval, (topic, payload) => this.session?.publish(topic, payload, { qos: 0 }));
    this.ingest = new Ingest({
      store,
      lifecycle: this.lifecycle,
      ledger: this.ledger,
      series: new SeriesMemory(await store.seriesState()),
      logger: this.logger,
      maxSamples: this.cfg.batch.maxSamples,
      maxDelayMs: this.cfg.batch.maxDelay,
      rebirth: (group, node, reason) => {
        if (this.rebirths.request(group, node, reason)) {
          this.lifecycle.get(group, node).counters.rebirthsRequested += 1;
          this.logger.info({ node: `${group}/${node}`, reason }, 'host: rebirth requested');
        }
      },
      committed: (streams, lagMs, repeats) => this.confirm(streams, lagMs, repeats),
      releaseAcks: (acks) => this.session?.release(acks),
      // One socket write a commit instead of one a packet: ~100 confirmations a commit at full
      // rate were 9% of the host's CPU in write calls. The same packets, in the same order.
      afterCommit: (send) => (this.session === undefined ? send() : this.session.corked(send)),
    });
    if (this.cfg.http !== undefined) {
      this.http = new HostHttp(this, this.cfg.http.host, this.cfg.http.port);
      await this.http.start();
    }
    this.session = new HostSession(
      this.cfg,
      {
        message: (topic, payload, props) => this.ingest.message(topic, payload, props),
        heldAck: (ack) => this.ingest.holdAck(ack),
        // A confirmation made while the broker was away is sent again (it is retained anyway).
        connected: () => {
          for (const node of this.confirmations.keys()) this.publishConfirmation(node);
        },
      },
      this.logger,
    );
    this.logger.info({ id: this.cfg.id, broker: this.cfg.broker.url, http: this.http?.port }, 'host: started');
  }

  /**
   * The `upstream.confirm: host` protocol (docs/store-and-forward.md, issue 13): retained, QoS 1,
   * on `<ackPrefix>/<group>/<node>`, `{"epoch", "through", "above"?}`: `through` the highest
   * gap-free outbox sequence of that epoch committed here, `above` the committed ranges past a
   * gap (records the edge dropped and will never send). Sent when a commit advanced either, and
   * again when a duplicate shows the edge has not seen the last one.
   */
  private confirm(streams: readonly StreamRow[], lagMs: number, repeats: readonly StreamRow[]): void {
    const now = Date.now();
    const send = new Map<string, StreamRow>();
    for (const s of streams) {
      const prev = this.confirmations.get(s.node);
      const ranges = JSON.parse(s.ranges) as Array<[number, number]>;
      const top = ranges.at(-1)?.[1] ?? s.through;
      if (prev !== undefined && prev.epoch === s.epoch && prev.through >= s.through && prev.top >= top) continue;
      this.confirmations.set(s.node, { epoch: s.epoch, through: s.through, top, above: ranges.slice(0, MAX_ACK_RANGES), at: now, lagMs });
      send.set(s.node, s);
    }
    for (const r of repeats) {
      const c = this.confirmations.get(r.node);
      if (c !== undefined && c.epoch === r.epoch) send.set(r.node, r);
    }
    for (const node of send.keys()) this.publishConfirmation(node);
  }

  private publishConfirmation(node: string): void {
    const c = this.confirmations.get(node);
    if (c === undefined) return;
    const body = c.above.length > 0 ? { epoch: c.epoch, through: c.through, above: c.above } : { epoch: c.epoch, through: c.through };
    this.session?.publish(`${this.cfg.ackPrefix}/${node}`, JSON.stringify(body), { qos: 1, retain: true });
  }

  async stop(): Promise<void> {
    await this.ingest?.stop();
    await this.session?.stop();
    await this.http?.stop();
    await this.store?.close();
  }
}
