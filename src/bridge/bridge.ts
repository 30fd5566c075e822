// The upstream bridge: one MQTT session at a time, the outbox drained in order through a
// bounded in-flight window, rows acknowledged (and deleted) only on PUBACK / PUBCOMP.
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
// The wire. mqtt.js owns the session; the records themselves are encoded by the bridge and
// written one batch per pass (drain-wire.ts), their acks matched by packet id.
import type { MqttClient } from 'mqtt';
import type { Logger } from '../observe/logger.js';
import { silentLogger } from '../observe/logger.js';
import { systemClock, type Clock, type TimerHandle } from '../shared/clock.js';
import { errorMessage } from '../errors.js';
import type { OutboxRecord, QoS } from '../store/outbox.js';
import { backoffDelay } from './backoff.js';
import { AckCommitter } from './ack-committer.js';
import { AckFence } from './ack-fence.js';
import { CONFIRM_TIMEOUT_MS, ConfirmTimeout } from './confirm-timeout.js';
import { InboundBatches } from './inbound-batches.js';
import { BridgeMetrics } from './bridge-metrics.js';
import { Lanes } from './lanes.js';
import { DrainWire } from './drain-wire.js';
import { Pacer } from './pacer.js';
import { PassScheduler } from './pass-scheduler.js';
import { defaultSenders } from './sender.js';
import { RecordMessages } from './record-message.js';
import { refusalIsTransient } from './refusal.js';
import { buildClientOptions, connectClient } from './upstream-options.js';
import type { BridgeOptions, Farewell } from './bridge-options.js';
import { endSession } from './end-session.js';
import { deliverCommand, subscribeCommands } from './upstream-commands.js';
import { HostConfirm } from './host-confirm.js';
import { HOST_RESEND_AFTER_MS, HOST_RESEND_MAX_MS, HostStall } from './host-stall.js';
import { DEFAULT_FAILOVER, ServerList } from './server-list.js';
import { suspectTopic } from './suspect-topic.js';

export type { BridgeOptions, Farewell } from './bridge-options.js';

type Lane = 'live' | 'backlog';

const STABLE_SESSION_MS = 10_000;

export class Bridge {
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly messages: RecordMessages;
  private readonly metrics: BridgeMetrics;
  private readonly pacer: Pacer;
  private client: MqttClient | undefined;
  private wire: DrainWire | undefined;
  /** Sent on a session that ended before their ack: sent again with DUP. At most one window. */
  private resend = new Set<number>();
  /** QoS 0 records in the pass being encoded that count as delivered once written (no fence). */
  private ackOnWrite: number[] = [];
  private generation = 0;
  private connected = false;
  private stopped = true;
  private attempt = 0;
  private reconnectTimer: TimerHandle | undefined;
  private readonly passes: PassScheduler;
  private unsubscribeAppend: (() => void) | undefined;
  private readonly lanes: Lanes;
  private readonly inflight = new Map<number, Lane>();
  private readonly fence: AckFence | undefined;
  private readonly acks: AckCommitter;
  private pumping = false;
  private sessionStartedAt = 0;
  // Per session: the configured limits narrowed by what the server's CONNACK allows.
  private window: number;
  private maxQos: QoS;
  /** Issue 17: the servers, one live at a time; guard and failure log are per server. */
  readonly servers: ServerList;
  /** upstream.confirm (issue 13); undefined: legacy (fence when fenceTopic is set, else on write). */
  private readonly confirm: BridgeOptions['confirm'];
  private readonly host: HostConfirm | undefined;
  private readonly hostStall: HostStall | undefined;
  private session: BridgeOptions['session'];
  private attemptStartedAt = 0;
  private lastPublishNow: string | undefined;
  private closing = false;
  private readonly confirmTimeout: ConfirmTimeout;
  private readonly inbound = new InboundBatches();

  constructor(private readonly o: BridgeOptions) {
    this.log = (o.logger ?? silentLogger()).child({ part: 'bridge' });
    this.clock = o.clock ?? systemClock;
    this.random = o.random ?? Math.random;
    this.pacer = new Pacer(o.replayRate, this.clock);
    this.passes = new PassScheduler(this.clock, () => this.pump(), () => !this.stopped);
    this.lanes = new Lanes(o.outbox);
    this.metrics = new BridgeMetrics(o.metrics, o.outbox, this.clock, () => this.inflight.size, () => this.connected);
    this.messages = new RecordMessages(o.senders ?? defaultSenders(), this.log, this.metrics.unsendable, o.node, o.outbox.epoch);
    this.window = o.inflight;
    this.maxQos = o.maxQos;
    this.confirm = o.confirm;
    this.session = o.session;
    this.servers = new ServerList({ servers: o.servers ?? [o.session], policy: o.failover ?? DEFAULT_FAILOVER, backoff: o.backoff, clock: this.clock, random: this.random, log: this.log, metrics: o.metrics, failureLogIntervalMs: o.failureLogIntervalMs, leave: () => this.reconnectNow() });
    if (o.fenceTopic !== undefined && (o.confirm === undefined || o.confirm === 'fence')) this.fence = new AckFence(o.fenceTopic, this.log);
    if (o.confirm === 'host') this.host = new HostConfirm(o.outbox, o.ackPrefix ?? 'fieldgate/ack', o.node, this.log, this.clock, o.metrics, () => this.passes.soonest());
    const host = this.host;
    // host: records the consumer never got are sent again without waiting for a reconnect.
    this.hostStall = host && new HostStall({ clock: this.clock, log: this.log, afterMs: o.hostResendAfterMs ?? HOST_RESEND_AFTER_MS, maxMs: HOST_RESEND_MAX_MS, waiting: () => host.lagRecords(), progress: () => o.outbox.ackedThrough(), restart: () => this.reconnectNow() });
    // Transport acks (PUBACK, or the fence's) that never come end the session (issue 19); in
    // host mode the consumer's own acks may take longer and do not count here.
    this.confirmTimeout = new ConfirmTimeout({
      clock: this.clock,
      timeoutMs: o.confirmTimeoutMs ?? CONFIRM_TIMEOUT_MS,
      waiting: () => this.inflight.size,
      stuck: (waitedMs) => {
        this.log.warn({ code: 'FG_ERR_UPSTREAM_TIMEOUT', url: this.session.url, inflight: this.inflight.size, waitedMs }, 'upstream confirmed nothing in time: ending the session, in-flight records are sent again');
        this.client?.end(true);
      },
    });
    this.acks = new AckCommitter({
      // host: the transport ack frees the window slot only; the consumer's ack deletes.
      outbox: this.host !== undefined ? { ack: () => undefined } : o.outbox,
      log: this.log,
      inflight: () => this.inflight.size,
      window: () => this.window,
      committed: (seqs) => {
        for (const s of seqs) this.inflight.delete(s);
        this.metrics.flush();
      },
      pump: () => this.passes.soonest(),
    });
  }

  private get guard() { return this.servers.current.guard; } // prettier-ignore
  private get failures() { return this.servers.current.failures; } // prettier-ignore

  get isConnected(): boolean {
    return this.connected;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    // Build the options once up front so a missing TLS file is an error at start, not a loop.
    for (const s of this.o.servers ?? [this.o.session]) buildClientOptions(s);
    this.unsubscribeAppend = this.o.outbox.onAppend(() => {
      this.lanes.appended();
      this.passes.soonest();
    });
    this.connect();
  }

  /**
   * Ends the session; unacknowledged records stay in the outbox for the next start. With a
   * farewell (Sparkplug NDEATH) it is published first and the session closed with a DISCONNECT
   * (MQTT 5 reason `reasonCode`, e.g. 0x04 "with Will"), all within about a second.
   */
  async stop(farewell?: Farewell, reasonCode?: number): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unsubscribeAppend?.();
    this.clearTimers();
    this.servers.stop();
    this.acks.commitNow();
    const client = this.client;
    const wasConnected = this.connected;
    this.dropSession();
    if (client !== undefined) await endSession(client, this.session.protocolVersion, wasConnected ? farewell : undefined, reasonCode);
  }

  /** Replay rate (records/s acked over the last 10 s) and drain ETA (s; -1 while nothing drains). */
  drainEstimate(): { rate: number; etaSeconds: number; oldestAgeSeconds: number } {
    return { rate: this.metrics.rate(), etaSeconds: this.metrics.etaSeconds(), oldestAgeSeconds: this.metrics.oldestAgeSeconds() };
  }

  /** Snapshot for tests and the status page. */
  status(): { connected: boolean; inflight: number; window: number; maxQos: QoS; liveFrom: number; backlogCursor: number; liveCursor: number } {
    return {
      connected: this.connected,
      inflight: this.inflight.size,
      window: this.window,
      maxQos: this.maxQos,
      liveFrom: this.lanes.liveFrom,
      backlogCursor: this.lanes.backlogCursor,
      liveCursor: this.lanes.liveCursor,
    };
  }

  private connect(): void {
    if (this.stopped) return;
    const gen = ++this.generation;
    let client: MqttClient;
    this.session = { ...this.servers.current.session, protocolVersion: this.guard.protocolVersion };
    this.attemptStartedAt = this.clock.monotonic();
    this.closing = false;
    try {
      client = connectClient(this.session, this.o.willFor?.());
    } catch (e) {
      // mqtt.js throws synchronously for some bad URLs or TLS material: retry later, never crash.
      this.failures.failed(gen, errorMessage(e), 'upstream connect failed');
      this.scheduleReconnect();
      return;
    }
    this.client = client;
    this.wire = new DrainWire(client, this.session.protocolVersion, `${this.o.node}/${this.o.outbox.epoch}/`, {
      acked: (seq) => this.onAck(seq, gen),
      refused: (seq, topic, reason) => this.onRefused(client, seq, topic, reason, gen),
    });
    client.on('connect', (connack) => {
      if (gen !== this.generation) return;
      this.onSessionUp(client, connack.properties);
    });
    client.on('message', (topic, payload, packet) => {
      if (gen !== this.generation) return;
      this.inbound.seen(client.stream);
      if (this.host !== undefined && topic === this.host.topic) return this.host.onAck(payload);
      this.guard.message(topic);
      deliverCommand(this.o, topic, payload, packet, this.log);
    });
    client.on('error', (e) => {
      if (gen !== this.generation) return;
      this.closing = true;
      if (this.guard.error(gen, (e as { code?: unknown }).code)) return void client.end(true);
      // Secrets stay out: the URL is logged, the options (password) are not.
      if (this.connected) this.log.warn({ code: 'FG_ERR_UPSTREAM_CONNECT', url: this.session.url, err: errorMessage(e) }, 'upstream error');
      else this.failures.failed(gen, errorMessage(e), 'upstream error');
      // mqtt.js reports a malformed packet from the server as an error and keeps reading the
      // stream. A client that meets a protocol violation must close the connection (3.1.1
      // [MQTT-4.8.0-1]; MQTT 5 section 4.13):
      // end the session here; 'close' then schedules the reconnect.
      if (this.connected) client.end(true);
    });
    client.on('close', () => {
      if (gen !== this.generation) return;
      this.onSessionDown(client);
    });
  }

  private onSessionUp(client: MqttClient, props: { receiveMaximum?: number; maximumQoS?: number } | undefined): void {
    this.connected = true;
    const { failedAttempts, unlogged } = this.failures.succeeded();
    this.guard.connected();
    this.servers.connected();
    this.sessionStartedAt = this.clock.monotonic();
    this.lastPublishNow = undefined;
    // MQTT 5: never more unacknowledged QoS > 0 PUBLISHes than the server's Receive Maximum
    // [MQTT-3.3.4-7], never a QoS above its Maximum QoS [MQTT-3.2.2-11]. mqtt.js enforces
    // neither on the sending side.
    this.window = Math.max(1, Math.min(this.o.inflight, props?.receiveMaximum ?? this.o.inflight, DrainWire.capacity));
    this.maxQos = Math.min(this.o.maxQos, props?.maximumQoS ?? 2) as QoS;
    const st = this.o.outbox.stats();
    this.lanes.reset();
    this.log.info({ url: this.session.url, backlog: st.depth, backlogBytes: st.bytes, epoch: st.epoch, window: this.window, maxQos: this.maxQos, failedAttempts, unlogged }, 'upstream connected');
    this.host?.subscribe(client);
    subscribeCommands(client, this.o, this.session.protocolVersion, this.log);
    this.confirmTimeout.start();
    this.hostStall?.start();
    this.o.onConnect?.(client);
    this.passes.soonest();
  }

  private onSessionDown(client: MqttClient): void {
    const wasConnected = this.connected;
    const gen = this.generation;
    const suspect = wasConnected ? suspectTopic(this.o.outbox, this.inflight, this.fence, this.lastPublishNow) : undefined;
    // Closed before CONNACK with no error: MQTT 5 refused (RabbitMQ 3.10), or accepted then dropped.
    if (!wasConnected && this.guard.closedBeforeConnack(gen, this.clock.monotonic() - this.attemptStartedAt, this.session.connectTimeoutMs)) {
      this.dropSession();
      client.end(true);
      return this.connect();
    }
    if (!wasConnected) this.failures.failed(gen, 'connection closed before CONNACK', 'upstream error');
    this.dropSession();
    client.end(true);
    let penalty: number | undefined;
    if (wasConnected) {
      this.servers.lost();
      this.o.onDisconnect?.();
      this.metrics.reconnects.inc();
      this.log.warn({ url: this.session.url }, 'upstream connection lost');
      // Only a session that lasted resets the backoff: a broker that accepts and then drops
      // us at once (kicked, malformed, overloaded) must not be hammered at the minimum delay.
      const lasted = this.clock.monotonic() - this.sessionStartedAt;
      if (lasted >= STABLE_SESSION_MS) this.attempt = 0;
      // Closed by the broker, again and again right after the same topic: a refusal (3.1.1).
      penalty = this.guard.sessionEnded(lasted, !this.closing, suspect, this.o.backoff.maxMs);
    }
    this.scheduleReconnect(penalty);
  }

  private scheduleReconnect(override?: number): void {
    if (this.stopped) return;
    const { delayMs: delay, switched } = this.servers.next(backoffDelay(this.attempt++, this.o.backoff, this.random), override);
    if (switched) this.attempt = 0;
    this.reconnectTimer = this.clock.setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect();
    }, delay);
  }

  private dropSession(): void {
    this.confirmTimeout.stop();
    this.hostStall?.stop();
    this.inbound.stop();
    this.connected = false;
    this.client = undefined;
    this.wire?.close();
    this.wire = undefined;
    this.ackOnWrite = [];
    this.generation++;
    // Acks already received are real: keep them. Everything else in flight is replayed.
    this.acks.commitNow();
    // Records that left the store meanwhile (acked, evicted, expired) are never sent again.
    const through = this.o.outbox.ackedThrough();
    for (const seq of this.resend) if (seq <= through) this.resend.delete(seq);
    for (const seq of this.inflight.keys()) this.resend.add(seq);
    this.inflight.clear();
    this.fence?.reset();
    this.passes.cancelPaced();
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
    const client = this.client;
    const wire = this.wire;
    if (!this.connected || client === undefined || wire === undefined) return;
    if (this.o.mayDrain !== undefined && !this.o.mayDrain()) return;
    // One segment for the pass and its fence: mqtt.js leaves Nagle on, and a fence written
    // apart from its records would wait for the records' TCP ACK (up to 40 ms, delayed ACK).
    wire.cork();
    try {
      this.fillWindow(client, wire);
    } finally {
      // The fence goes after the flush: its PUBACK vouches only for packets written before it.
      this.flush(wire);
      this.sendFence(client);
      wire.uncork();
    }
  }

  /** Writes the pass in one write; QoS 0 records without a fence count as delivered once written. */
  private flush(wire: DrainWire): void {
    const acks = this.ackOnWrite;
    if (acks.length === 0) return wire.flush();
    this.ackOnWrite = [];
    const gen = this.generation;
    wire.flush((ok) => {
      if (ok) for (const seq of acks) this.onAck(seq, gen);
    });
  }

  private fillWindow(client: MqttClient, wire: DrainWire): void {
    // Bounded: every pass either sends at least one record or returns.
    while (this.inflight.size < this.window) {
      const live = this.lanes.takeLive(this.window - this.inflight.size);
      if (live.length > 0) {
        for (const r of live) this.send(client, wire, r, 'live');
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
      this.send(client, wire, r, 'backlog');
    }
  }

  private send(client: MqttClient, wire: DrainWire, r: OutboxRecord, lane: Lane): void {
    const gen = this.generation;
    let msg;
    try {
      msg = this.messages.message(r, this.session.protocolVersion, lane === 'backlog');
    } catch (e) {
      // A sender that cannot encode now (e.g. no Sparkplug births on this session) must not
      // lose the record: end the session, and everything unacknowledged is sent again.
      this.log.error({ seq: r.seq, kind: r.kind, err: errorMessage(e) }, 'record could not be encoded: restarting the session');
      this.closing = true;
      wire.discard();
      client.end(true);
      throw e;
    }
    this.inflight.set(r.seq, lane);
    if (msg === undefined) return this.drop(r.seq, gen);
    const qos = this.messages.qos(msg, this.confirm === 'qos1', this.maxQos);
    this.metrics.sentOne(lane);
    this.host?.sent(r.seq);
    const dup = this.resend.size > 0 && this.resend.delete(r.seq);
    if (!wire.add(msg, r.seq, qos, dup)) {
      // Beyond MQTT's 256 MiB packet limit: no broker can take it, and it would block the queue.
      this.log.error({ seq: r.seq, topic: msg.topic, bytes: msg.payload.length }, 'record too large for an MQTT packet: dropped');
      this.metrics.refused.inc({ reason: '0x95' });
      this.drop(r.seq, gen);
      return;
    }
    // QoS 1/2: the wire reports the PUBACK / PUBCOMP. QoS 0: the fence's PUBACK, or the write.
    if (qos === 0) {
      if (this.fence !== undefined) this.fence.add(r.seq);
      else this.ackOnWrite.push(r.seq);
    }
  }

  private onRefused(client: MqttClient, seq: number, topic: string, reason: number, gen: number): void {
    if (gen !== this.generation) return;
    if (refusalIsTransient(this.log, this.metrics.refused, seq, topic, reason)) {
      this.closing = true;
      client.end(true);
    } else this.drop(seq, gen);
  }

  private sendFence(client: MqttClient): void {
    if (!this.connected) return;
    const gen = this.generation;
    this.fence?.send(client, () => gen === this.generation, (seq) => this.onAck(seq, gen));
  }

  /** Publishes at once on the live session, ahead of the outbox (births). False when down. */
  publishNow(topic: string, payload: Buffer, qos: QoS): boolean {
    const client = this.client;
    if (!this.connected || client === undefined) return false;
    this.lastPublishNow = topic;
    client.publish(topic, payload, { qos, retain: false });
    return true;
  }

  /** Lets a paused drain (mayDrain was false) look at the outbox again. */
  wake(): void {
    this.passes.soonest();
  }

  /** Ends this session now; the usual backoff then connects again (new Will, new bdSeq). */
  reconnectNow(): void {
    this.closing = true;
    this.client?.end(true);
  }

  /** Handled here for good (unsendable, nothing to send, refused): leaves the outbox in every mode. */
  private drop(seq: number, gen: number): void {
    if (gen === this.generation) this.host?.dropLocal(seq);
    this.onAck(seq, gen);
  }

  private onAck(seq: number, gen: number): void {
    if (gen !== this.generation) return;
    const lane = this.inflight.get(seq);
    if (lane === undefined) return;
    this.confirmTimeout.progress();
    this.acks.record(seq);
    this.metrics.ackedOne(lane);
  }

  private clearTimers(): void {
    if (this.reconnectTimer !== undefined) this.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.passes.cancel();
  }
}
