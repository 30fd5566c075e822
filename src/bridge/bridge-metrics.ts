// What an operator watches during an outage and the replay after it. Store figures are read
// at scrape time from the outbox, so they are never stale.
import type { Clock } from '../shared/clock.js';
import { MetricsRegistry, type Counter } from '../observe/metrics.js';
import type { Outbox } from '../store/outbox.js';

const WINDOW_S = 10;

export class BridgeMetrics {
  readonly reconnects: Counter;
  readonly sent: Counter;
  readonly ackedTotal: Counter;
  readonly unsendable: Counter;
  readonly refused: Counter;
  // Acks per whole second for the last WINDOW_S seconds (ring), for the replay rate and ETA.
  private readonly buckets = new Array<number>(WINDOW_S).fill(0);
  private bucketSecond = 0;
  // Per-record counts are kept in plain fields and folded into the labelled counters once per
  // ack batch: building a label key per record cost ~4% of the drain in the profile.
  private pendingSent = { live: 0, backlog: 0 };
  private pendingAcked = { live: 0, backlog: 0 };

  constructor(
    registry: MetricsRegistry | undefined,
    private readonly outbox: Outbox,
    private readonly clock: Clock,
    inflight: () => number,
    private readonly connected: () => boolean,
  ) {
    const r = registry ?? new MetricsRegistry();
    this.reconnects = r.counter('fieldgate_upstream_reconnects_total', 'upstream sessions lost (each is followed by a reconnect with backoff)');
    this.sent = r.counter('fieldgate_upstream_sent_total', 'records published upstream, by lane (live, backlog); resends included');
    this.ackedTotal = r.counter('fieldgate_upstream_acked_total', 'records acknowledged by the upstream (PUBACK, PUBCOMP, or written for QoS 0)');
    this.unsendable = r.counter('fieldgate_upstream_unsendable_total', 'records dropped because no sender handles their kind');
    this.refused = r.counter('fieldgate_upstream_refused_total', 'records the upstream refused for good (MQTT 5 PUBACK reason >= 0x80), dropped, by reason');
    r.gauge('fieldgate_upstream_connected', '1 while the upstream session is up').collect(() => {
      this.flush();
      return [[undefined, connected() ? 1 : 0]];
    });
    r.gauge('fieldgate_upstream_inflight', 'records sent and not yet durably acknowledged').collect(() => [[undefined, inflight()]]);
    r.gauge('fieldgate_outbox_depth_records', 'records waiting in the outbox').collect(() => [[undefined, this.outbox.stats().depth]]);
    r.gauge('fieldgate_outbox_bytes', 'bytes the waiting records count against store.maxBytes').collect(() => [[undefined, this.outbox.stats().bytes]]);
    r.gauge('fieldgate_outbox_oldest_age_seconds', 'age of the oldest waiting record (0 when empty)').collect(() => [[undefined, this.oldestAgeSeconds()]]);
    r.gauge('fieldgate_outbox_dropped_records', 'records dropped since the store epoch began, by reason (budget, age, rejected); persisted, only grows').collect(() => {
      const d = this.outbox.stats().dropped;
      return [
        [{ reason: 'budget' }, d.budget],
        [{ reason: 'age' }, d.age],
        [{ reason: 'rejected' }, d.rejected],
      ];
    });
    r.gauge('fieldgate_upstream_replay_rate', 'records acknowledged per second over the last 10 s').collect(() => [[undefined, this.rate()]]);
    r.gauge('fieldgate_upstream_drain_eta_seconds', 'waiting records / replay rate; -1 while nothing drains').collect(() => [[undefined, this.etaSeconds()]]);
  }

  sentOne(lane: 'live' | 'backlog'): void {
    this.pendingSent[lane] += 1;
  }

  ackedOne(lane: 'live' | 'backlog'): void {
    this.pendingAcked[lane] += 1;
  }

  /** Folds the per-record counts into the counters and the rate window. */
  flush(): void {
    for (const lane of ['live', 'backlog'] as const) {
      if (this.pendingSent[lane] > 0) this.sent.inc({ lane }, this.pendingSent[lane]);
      const acked = this.pendingAcked[lane];
      if (acked > 0) {
        this.ackedTotal.inc({ lane }, acked);
        this.roll();
        const i = this.bucketSecond % WINDOW_S;
        this.buckets[i] = (this.buckets[i] ?? 0) + acked;
      }
    }
    this.pendingSent = { live: 0, backlog: 0 };
    this.pendingAcked = { live: 0, backlog: 0 };
  }

  rate(): number {
    this.flush();
    this.roll();
    // Average over the completed seconds plus the current one.
    return this.buckets.reduce((a, b) => a + b, 0) / WINDOW_S;
  }

  etaSeconds(): number {
    const depth = this.outbox.stats().depth;
    if (depth === 0) return 0;
    // Without a link nothing drains, whatever the last 10 s averaged: the window still holds
    // acks from before the drop and would promise a drain that is not happening.
    if (!this.connected()) return -1;
    const rate = this.rate();
    return rate > 0 ? depth / rate : -1;
  }

  oldestAgeSeconds(): number {
    const oldest = this.outbox.stats().oldestCreatedAt;
    return oldest === null ? 0 : Math.max(0, (this.clock.now() - oldest) / 1000);
  }

  private roll(): void {
    const second = Math.floor(this.clock.monotonic() / 1000);
    // Bounded: at most WINDOW_S buckets are cleared however long it has been.
    for (let s = this.bucketSecond + 1, n = 0; s <= second && n < WINDOW_S; s++, n++) this.buckets[s % WINDOW_S] = 0;
    if (second > this.bucketSecond) this.bucketSecond = second;
  }
}
