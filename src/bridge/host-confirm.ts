// `upstream.confirm: host` (issue 13): a record leaves the outbox only when the central consumer
// says it has committed it. The consumer publishes, retained at QoS 1, on
// `<ackPrefix>/<group>/<node>` the JSON `{"epoch": "<store epoch>", "through": N}`: every record
// of that epoch at or below N is stored on its side (docs/store-and-forward.md, "The host
// confirmation protocol"). The bridge meanwhile frees window slots on the transport ack only;
// after a reconnect everything still in the outbox is sent again and the consumer's dedup drops
// the repeats. PUBACKs prove only that the broker read the bytes: a broker crash (no broker
// keeps QoS 0, and not every one keeps QoS 1) cannot lose what the consumer has not confirmed.
import type { MqttClient } from 'mqtt';
import { errorMessage } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import { MetricsRegistry } from '../observe/metrics.js';
import type { Clock } from '../shared/clock.js';
import type { Outbox } from '../store/outbox.js';
import { HOST_GAP_TIMEOUT_MS, HostGapWatch } from './host-gap.js';
import { parseJsonObject } from '../shared/json-object.js';

/** One lag sample per this many ms at most: the seconds figure is exact to about this. */
const SAMPLE_MS = 100;
/** Bound on samples kept (at SAMPLE_MS, over an hour of unconfirmed sending). */
const MAX_SAMPLES = 40_000;

export interface HostAck {
  epoch: string;
  through: number;
  /** Optional: committed ranges above `through` (past records the edge dropped and never sends). */
  above: Array<[number, number]>;
}

const MAX_ABOVE = 1024;

/** The ack topic for a node (`group/edgeNode`, as in the dedup key). */
export function hostAckTopic(prefix: string, node: string): string {
  return `${prefix.replace(/\/+$/, '')}/${node}`;
}

/** Parses an ack payload; undefined when it is not `{"epoch": string, "through": integer >= 0}`. */
export function parseHostAck(payload: Buffer): HostAck | undefined {
  const v = parseJsonObject(payload);
  if (v === undefined) return undefined;
  const { epoch, through, above } = v;
  if (typeof epoch !== 'string' || epoch === '' || !isSeq(through)) return undefined;
  const ranges: Array<[number, number]> = [];
  if (Array.isArray(above)) {
    for (const r of above.slice(0, MAX_ABOVE)) {
      if (Array.isArray(r) && r.length === 2 && isSeq(r[0]) && isSeq(r[1]) && r[0] > through && r[0] <= r[1]) ranges.push([r[0], r[1]]);
    }
  }
  return { epoch, through, above: ranges };
}

function isSeq(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

export class HostConfirm {
  readonly topic: string;
  /** Highest `through` applied this run (for the current epoch). */
  private confirmed = 0;
  private lastSent = 0;
  /** [first seq sent at, monotonic ms]: the oldest unconfirmed send's time. */
  private samples: Array<[number, number]> = [];
  private warned = new Set<string>();
  /** Highest sequence the consumer reported committed (`through` or an `above` end), this epoch. */
  private top = 0;
  private sessionSent = false;
  private client: MqttClient | undefined;
  /** A gap the consumer never fills ends the session, so it is sent again (src/bridge/host-gap.ts). */
  readonly gapWatch: HostGapWatch;

  constructor(
    private readonly outbox: Pick<Outbox, 'ack' | 'ackedThrough' | 'epoch' | 'stats'>,
    prefix: string,
    node: string,
    private readonly log: Logger,
    private readonly clock: Clock,
    registry: MetricsRegistry | undefined,
    /** Records left the store: the drain may have room again. */
    private readonly released: () => void,
    gapTimeoutMs = HOST_GAP_TIMEOUT_MS,
  ) {
    this.topic = hostAckTopic(prefix, node);
    this.gapWatch = new HostGapWatch({
      clock,
      timeoutMs: gapTimeoutMs,
      gap: () => {
        if (!this.sessionSent) return undefined;
        const g = this.outbox.ackedThrough() + 1;
        return this.top > g ? g : undefined;
      },
      stuck: (seq, waitedMs) => {
        this.log.warn({ code: 'FG_ERR_UPSTREAM_CONFIRM_GAP', topic: this.topic, seq, confirmedAbove: this.top, waitedMs }, 'the consumer confirmed records past one it never received: ending the session, every unconfirmed record is sent again');
        this.client?.end(true);
      },
    });
    const r = registry ?? new MetricsRegistry();
    r.gauge('fieldgate_upstream_confirm_lag_records', 'confirm: host: records sent upstream and not yet confirmed by the consumer').collect(() => [[undefined, this.lagRecords()]]);
    r.gauge('fieldgate_upstream_confirm_lag_seconds', 'confirm: host: time since the oldest record sent and not yet confirmed was first sent (0 when none)').collect(() => [[undefined, this.lagSeconds()]]);
  }

  /** Every session: the retained ack arrives at once, later ones as the consumer commits. */
  subscribe(client: MqttClient): void {
    this.client = client;
    this.sessionSent = false;
    this.gapWatch.start();
    client.once('close', () => {
      if (this.client === client) this.gapWatch.stop();
    });
    client.subscribe(this.topic, { qos: 1 }, (e) => {
      if (e) this.log.error({ code: 'FG_ERR_UPSTREAM_ACK_SUBSCRIBE', topic: this.topic, err: errorMessage(e) }, 'cannot subscribe to the consumer ack topic: nothing will leave the outbox; allow read on it');
    });
  }

  /** A record went out (again). Called per record: cheap unless a new sample is due. */
  sent(seq: number): void {
    this.sessionSent = true;
    if (seq <= this.lastSent) return;
    this.lastSent = seq;
    const now = this.clock.monotonic();
    const last = this.samples[this.samples.length - 1];
    if (last === undefined || now - last[1] >= SAMPLE_MS) {
      this.samples.push([seq, now]);
      if (this.samples.length > MAX_SAMPLES) this.samples.splice(1, 1);
    }
  }

  /** An ack arrived on `topic`. */
  onAck(payload: Buffer): void {
    const ack = parseHostAck(payload);
    if (ack === undefined) return this.warnOnce('malformed', { payload: payload.subarray(0, 200).toString('utf8') }, 'consumer ack is not {"epoch": string, "through": integer}: ignored');
    if (ack.epoch !== this.outbox.epoch) return this.warnOnce(`epoch:${ack.epoch}`, { epoch: ack.epoch, current: this.outbox.epoch }, 'consumer ack is for another store epoch: ignored');
    const done = this.outbox.ackedThrough();
    // Nothing past the last sequence assigned can have been committed: a consumer bug, not a reason to delete what comes next.
    const last = this.outbox.stats().lastSeq;
    this.top = Math.min(last, Math.max(this.top, ack.through, ...ack.above.map((r) => r[1])));
    const ranges: Array<[number, number]> = ack.through > done ? [[done + 1, Math.min(ack.through, last)]] : [];
    for (const r of ack.above) if (r[1] > done && r[0] <= last) ranges.push([Math.max(r[0], done + 1), Math.min(r[1], last)]);
    if (ranges.length === 0) return;
    try {
      this.outbox.ack(ranges);
    } catch (e) {
      // Not recorded: the records stay and are sent again; the next ack retries.
      this.log.error({ err: errorMessage(e), code: (e as { code?: string }).code, through: ack.through }, 'could not record the consumer ack');
      return;
    }
    this.confirmed = Math.max(this.confirmed, Math.min(ack.through, last));
    this.dropSamples(Math.max(this.confirmed, this.outbox.ackedThrough()));
    this.released();
  }

  /**
   * A record the edge itself disposed of (unsendable, refused, a lifecycle record the births
   * cover): no consumer will ever confirm it, so it leaves now. It leaves a gap the consumer
   * reports past with `above` (docs/store-and-forward.md).
   */
  dropLocal(seq: number): void {
    try {
      this.outbox.ack([[seq, seq]]);
    } catch (e) {
      this.log.error({ err: errorMessage(e), code: (e as { code?: string }).code, seq }, 'could not drop a record');
    }
  }

  lagRecords(): number {
    return Math.max(0, this.lastSent - Math.max(this.confirmed, this.outbox.ackedThrough()));
  }

  lagSeconds(): number {
    const through = Math.max(this.confirmed, this.outbox.ackedThrough());
    this.dropSamples(through);
    const oldest = this.samples[0];
    return oldest === undefined ? 0 : (this.clock.monotonic() - oldest[1]) / 1000;
  }

  private dropSamples(through: number): void {
    let popped: [number, number] | undefined;
    while (this.samples.length > 0 && (this.samples[0] as [number, number])[0] <= through) popped = this.samples.shift();
    // Records above `through` sent in the popped sample's interval keep its (earlier) time.
    const next = this.samples[0];
    if (popped !== undefined && this.lastSent > through && (next === undefined || next[0] > through + 1)) this.samples.unshift([through + 1, popped[1]]);
  }

  private warnOnce(key: string, ctx: Record<string, unknown>, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log.warn({ topic: this.topic, ...ctx }, `${msg} (warned once)`);
  }
}
