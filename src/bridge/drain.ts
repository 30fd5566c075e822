// The outbox drain: what goes on the upstream session, in which order, and when a record leaves
// the outbox. The session itself (connect, backoff, failover, Will) is bridge.ts; this module
// sees only "a session is attached / open / gone" (issue 16: one job per module).
//
// Lanes (lanes.ts). At each connect the outbox's last sequence L splits it: records above L are
// live: sent as soon as they are appended, unpaced. Records at or below L are the backlog:
// sent in sequence order behind live data and paced by `upstream.replay.rate`. Each lane is in
// sequence order on the wire; the deduper (docs/dedup.md) handles the interleaving.
//
// Duplicates. A window slot is freed only after the ack is durable in the outbox, so after a
// crash at most `inflight` records are sent again. Records sent on a session that ended before
// their ack are sent again on the next with DUP set (QoS 1/2).
//
// The wire. The records are encoded here and written one batch per pass (drain-wire.ts), their
// acks matched by packet id. Every callback is bound to the session it was made on, so an ack
// or a write completing after that session ended changes nothing.
import type { MqttClient } from 'mqtt';
import type { Logger } from '../observe/logger.js';
import type { Clock } from '../shared/clock.js';
import { errorMessage } from '../errors.js';
import type { OutboxRecord, QoS } from '../store/outbox.js';
import { AckCommitter } from './ack-committer.js';
import type { AckFence } from './ack-fence.js';
import type { BridgeMetrics } from './bridge-metrics.js';
import type { BridgeOptions } from './bridge-options.js';
import { DrainWire } from './drain-wire.js';
import type { HostConfirm } from './host-confirm.js';
import { Lanes } from './lanes.js';
import { Pacer } from './pacer.js';
import { PassScheduler } from './pass-scheduler.js';
import { RecordMessages } from './record-message.js';
import { refusalIsTransient } from './refusal.js';
import { defaultSenders } from './sender.js';

type Lane = 'live' | 'backlog';

/** Why a record left the outbox without a confirmation from upstream (it never will have one). */
export type DropReason = 'unsendable' | 'too-large' | 'refused';

export interface DrainOptions {
  bridge: Pick<BridgeOptions, 'outbox' | 'node' | 'inflight' | 'maxQos' | 'replayRate' | 'senders' | 'confirm' | 'mayDrain'>;
  log: Logger;
  clock: Clock;
  metrics: BridgeMetrics;
  fence: AckFence | undefined;
  host: HostConfirm | undefined;
  /** False once the bridge is stopped: no pass is scheduled any more. */
  active: () => boolean;
  /** A confirmation arrived (the confirm timeout restarts its wait). */
  progress: () => void;
  /** Ends the session (it cannot go on: an unencodable record, a transient refusal); the bridge reconnects. */
  restart: () => void;
}

/** One upstream session as the drain sees it; callbacks hold on to theirs and check it is current. */
interface Attached {
  readonly client: MqttClient;
  readonly wire: DrainWire;
  readonly protocolVersion: 4 | 5;
  /** CONNACK received: records may be sent. */
  open: boolean;
}

export class Drain {
  private readonly options: DrainOptions;
  private readonly log: Logger;
  private readonly messages: RecordMessages;
  private readonly pacer: Pacer;
  private readonly passes: PassScheduler;
  private readonly lanes: Lanes;
  private readonly acks: AckCommitter;
  private readonly inflightLanes = new Map<number, Lane>();
  /** Sent on a session that ended before their ack: sent again with DUP. At most one window. */
  private resend = new Set<number>();
  /** QoS 0 records in the pass being encoded that count as delivered once written (no fence). */
  private ackOnWrite: number[] = [];
  private current: Attached | undefined;
  private pumping = false;
  // Per session: the configured limits narrowed by what the server's CONNACK allows.
  private sessionWindow: number;
  private sessionMaxQos: QoS;

  constructor(options: DrainOptions) {
    this.options = options;
    const { bridge, clock, metrics } = options;
    this.log = options.log;
    this.pacer = new Pacer(bridge.replayRate, clock);
    this.passes = new PassScheduler(clock, () => this.pump(), options.active);
    this.lanes = new Lanes(bridge.outbox);
    this.messages = new RecordMessages(bridge.senders ?? defaultSenders(), this.log, metrics.unsendable, bridge.node, bridge.outbox.epoch);
    this.sessionWindow = bridge.inflight;
    this.sessionMaxQos = bridge.maxQos;
    this.acks = new AckCommitter({
      // host: the transport ack frees the window slot only; the consumer's ack deletes.
      outbox: options.host !== undefined ? { ack: () => undefined } : bridge.outbox,
      log: this.log,
      inflight: () => this.inflightLanes.size,
      window: () => this.sessionWindow,
      committed: (seqs) => {
        for (const s of seqs) this.inflightLanes.delete(s);
        metrics.flush();
      },
      pump: () => this.passes.soonest(),
    });
  }

  get window(): number { return this.sessionWindow; } // prettier-ignore
  get maxQos(): QoS { return this.sessionMaxQos; } // prettier-ignore
  /** Sequences sent and not yet durably acknowledged (suspect-topic.ts reads the oldest). */
  get inflight(): ReadonlyMap<number, unknown> { return this.inflightLanes; } // prettier-ignore

  status(): { inflight: number; window: number; maxQos: QoS; liveFrom: number; backlogCursor: number; liveCursor: number } {
    return {
      inflight: this.inflightLanes.size,
      window: this.sessionWindow,
      maxQos: this.sessionMaxQos,
      liveFrom: this.lanes.liveFrom,
      backlogCursor: this.lanes.backlogCursor,
      liveCursor: this.lanes.liveCursor,
    };
  }

  /** A new client, before its CONNACK: its acks and refusals are routed here from now on. */
  attach(client: MqttClient, protocolVersion: 4 | 5): void {
    const outbox = this.options.bridge.outbox;
    let session: Attached | undefined = undefined;
    const wire = new DrainWire(client, protocolVersion, `${this.options.bridge.node}/${outbox.epoch}/`, {
      acked: (seq) => {
        if (session === this.current) this.onAck(seq);
      },
      refused: (seq, topic, reason) => {
        if (session !== this.current) return;
        if (refusalIsTransient(this.log, this.options.metrics.refused, seq, topic, reason)) this.options.restart();
        else this.drop(seq, 'refused');
      },
    });
    session = { client, wire, protocolVersion, open: false };
    this.current = session;
  }

  /**
   * CONNACK: the window for this session. MQTT 5: never more unacknowledged QoS > 0 PUBLISHes
   * than the server's Receive Maximum [MQTT-3.3.4-7], never a QoS above its Maximum QoS
   * [MQTT-3.2.2-11]; mqtt.js enforces neither on the sending side.
   */
  open(props: { receiveMaximum?: number; maximumQoS?: number } | undefined): void {
    const { inflight, maxQos } = this.options.bridge;
    this.sessionWindow = Math.max(1, Math.min(inflight, props?.receiveMaximum ?? inflight, DrainWire.capacity));
    this.sessionMaxQos = Math.min(maxQos, props?.maximumQoS ?? 2) as QoS;
    if (this.current !== undefined) this.current.open = true;
  }

  /** After `open` and the session's log line: a new split into live and backlog. */
  resetLanes(): void {
    this.lanes.reset();
  }

  /**
   * The session is gone. Acks already received are real: they are kept. Everything else in
   * flight is sent again, with DUP, on the next session.
   */
  detach(): void {
    this.current?.wire.close();
    this.current = undefined;
    this.ackOnWrite = [];
    this.acks.commitNow();
    // Records that left the store meanwhile (acked, evicted, expired) are never sent again.
    const through = this.options.bridge.outbox.ackedThrough();
    for (const seq of this.resend) if (seq <= through) this.resend.delete(seq);
    for (const seq of this.inflightLanes.keys()) this.resend.add(seq);
    this.inflightLanes.clear();
    this.options.fence?.reset();
    this.passes.cancelPaced();
  }

  /** The outbox grew. */
  appended(): void {
    this.lanes.appended();
    this.passes.soonest();
  }

  /** Another look at the outbox on the next turn (a paused drain may go on, slots may be free). */
  wake(): void {
    this.passes.soonest();
  }

  /** Commits the acks received so far (stop, before the session is dropped). */
  commitNow(): void {
    this.acks.commitNow();
  }

  /** Stopped: no pass any more. */
  cancel(): void {
    this.passes.cancel();
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      this.fill();
    } catch (e) {
      // A store error (disk, I/O) must not kill the process: log and retry on the next event.
      this.log.error({ err: errorMessage(e), code: (e as { code?: string }).code }, 'bridge could not read the outbox');
    } finally {
      this.pumping = false;
    }
  }

  private fill(): void {
    const session = this.current;
    if (session === undefined || !session.open) return;
    const mayDrain = this.options.bridge.mayDrain;
    if (mayDrain !== undefined && !mayDrain()) return;
    const wire = session.wire;
    // One segment for the pass and its fence: mqtt.js leaves Nagle on, and a fence written
    // apart from its records would wait for the records' TCP ACK (up to 40 ms, delayed ACK).
    wire.cork();
    try {
      this.fillWindow(session);
    } finally {
      // The fence goes after the flush: its PUBACK vouches only for packets written before it.
      this.flush(session);
      this.sendFence(session);
      wire.uncork();
    }
  }

  /** Writes the pass in one write; QoS 0 records without a fence count as delivered once written. */
  private flush(session: Attached): void {
    const acks = this.ackOnWrite;
    if (acks.length === 0) return session.wire.flush();
    this.ackOnWrite = [];
    session.wire.flush((ok) => {
      if (ok && session === this.current) for (const seq of acks) this.onAck(seq);
    });
  }

  private sendFence(session: Attached): void {
    if (session !== this.current || !session.open) return;
    this.options.fence?.send(session.client, () => session === this.current, (seq) => {
      if (session === this.current) this.onAck(seq);
    });
  }

  private fillWindow(session: Attached): void {
    // Bounded: every pass either sends at least one record or returns.
    while (this.inflightLanes.size < this.sessionWindow) {
      const live = this.lanes.takeLive(this.sessionWindow - this.inflightLanes.size);
      if (live.length > 0) {
        for (const r of live) this.send(session, r, 'live');
        continue;
      }
      const r = this.lanes.peekBacklog();
      if (r === undefined) return;
      const cost = this.pacer.cost(r.bytes);
      if (!this.pacer.tryTake(cost)) {
        this.passes.after(this.pacer.waitMs(cost));
        return;
      }
      this.lanes.consumeBacklog(r);
      this.send(session, r, 'backlog');
    }
  }

  private send(session: Attached, r: OutboxRecord, lane: Lane): void {
    let msg;
    try {
      msg = this.messages.message(r, session.protocolVersion, lane === 'backlog');
    } catch (e) {
      // A sender that cannot encode now (e.g. no Sparkplug births on this session) must not
      // lose the record: end the session, and everything unacknowledged is sent again.
      this.log.error({ seq: r.seq, kind: r.kind, err: errorMessage(e) }, 'record could not be encoded: restarting the session');
      session.wire.discard();
      this.options.restart();
      throw e;
    }
    this.inflightLanes.set(r.seq, lane);
    if (msg === undefined) return this.drop(r.seq, 'unsendable');
    const qos = this.messages.qos(msg, this.options.bridge.confirm === 'qos1', this.sessionMaxQos);
    this.options.metrics.sentOne(lane);
    this.options.host?.sent(r.seq);
    const dup = this.resend.size > 0 && this.resend.delete(r.seq);
    if (!session.wire.add(msg, r.seq, qos, dup)) {
      // Beyond MQTT's 256 MiB packet limit: no broker can take it, and it would block the queue.
      this.log.error({ seq: r.seq, topic: msg.topic, bytes: msg.payload.length }, 'record too large for an MQTT packet: dropped');
      this.options.metrics.refused.inc({ reason: '0x95' });
      return this.drop(r.seq, 'too-large');
    }
    // QoS 1/2: the wire reports the PUBACK / PUBCOMP. QoS 0: the fence's PUBACK, or the write.
    if (qos === 0) {
      if (this.options.fence !== undefined) this.options.fence.add(r.seq);
      else this.ackOnWrite.push(r.seq);
    }
  }

  /**
   * A record of the current session handled here for good (nothing to send, too large, refused):
   * counted as acked so it leaves the outbox in every mode, host confirm included (the consumer
   * will never report it). The reason is for whoever reads a debug log.
   */
  private drop(seq: number, reason: DropReason): void {
    this.log.debug({ seq, reason }, 'record dropped from the outbox');
    this.options.host?.dropLocal(seq);
    this.onAck(seq);
  }

  /** A confirmation on the current session (callers check that it is). */
  private onAck(seq: number): void {
    const lane = this.inflightLanes.get(seq);
    if (lane === undefined) return;
    this.options.progress();
    this.acks.record(seq);
    this.options.metrics.ackedOne(lane);
  }
}
