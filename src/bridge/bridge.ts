// The upstream bridge: one MQTT session at a time (connect, backoff, failover across servers,
// the Will, commands from upstream) around the outbox drain (drain.ts), which sends the records
// in order through a bounded in-flight window and acknowledges (deletes) them only on PUBACK /
// PUBCOMP. Issue 16 split the two: this file knows when a session is up, drain.ts what goes on it.
import type { MqttClient } from 'mqtt';
import type { Logger } from '../observe/logger.js';
import { silentLogger } from '../observe/logger.js';
import { systemClock, type Clock, type TimerHandle } from '../shared/clock.js';
import { errorMessage } from '../errors.js';
import type { QoS } from '../store/outbox.js';
import { backoffDelay } from './backoff.js';
import { AckFence } from './ack-fence.js';
import { CONFIRM_TIMEOUT_MS, ConfirmTimeout } from './confirm-timeout.js';
import { InboundBatches } from './inbound-batches.js';
import { BridgeMetrics } from './bridge-metrics.js';
import { Drain } from './drain.js';
import { buildClientOptions, connectClient } from './upstream-options.js';
import type { BridgeOptions, Farewell } from './bridge-options.js';
import { endSession } from './end-session.js';
import { deliverCommand, subscribeCommands } from './upstream-commands.js';
import { HostConfirm } from './host-confirm.js';
import { HOST_RESEND_AFTER_MS, HOST_RESEND_MAX_MS, HostStall } from './host-stall.js';
import { DEFAULT_FAILOVER, ServerList } from './server-list.js';
import { suspectTopic } from './suspect-topic.js';

export type { BridgeOptions, Farewell } from './bridge-options.js';

const STABLE_SESSION_MS = 10_000;

export class Bridge {
  private readonly options: BridgeOptions;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly metrics: BridgeMetrics;
  private readonly drain: Drain;
  private client: MqttClient | undefined;
  /** Bumped at each connect and each session end: events of an older client are ignored. */
  private generation = 0;
  private connected = false;
  private stopped = true;
  private attempt = 0;
  private reconnectTimer: TimerHandle | undefined;
  private unsubscribeAppend: (() => void) | undefined;
  private readonly fence: AckFence | undefined;
  private sessionStartedAt = 0;
  /** Issue 17: the servers, one live at a time; guard and failure log are per server. */
  readonly servers: ServerList;
  private readonly host: HostConfirm | undefined;
  private readonly hostStall: HostStall | undefined;
  private session: BridgeOptions['session'];
  private attemptStartedAt = 0;
  private lastPublishNow: string | undefined;
  /** We end the session ourselves (error, refusal, restart): not counted as the broker closing it. */
  private closing = false;
  private readonly confirmTimeout: ConfirmTimeout;
  private readonly inbound = new InboundBatches();

  constructor(options: BridgeOptions) {
    this.options = options;
    this.log = (options.logger ?? silentLogger()).child({ part: 'bridge' });
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.metrics = new BridgeMetrics(options.metrics, options.outbox, this.clock, () => this.drain.inflight.size, () => this.connected);
    this.session = options.session;
    this.servers = new ServerList({ servers: options.servers ?? [options.session], policy: options.failover ?? DEFAULT_FAILOVER, backoff: options.backoff, clock: this.clock, random: this.random, log: this.log, metrics: options.metrics, failureLogIntervalMs: options.failureLogIntervalMs, leave: () => this.reconnectNow() });
    // upstream.confirm (issue 13); unset: legacy (fence when fenceTopic is set, else on write).
    if (options.fenceTopic !== undefined && (options.confirm === undefined || options.confirm === 'fence')) this.fence = new AckFence(options.fenceTopic, this.log);
    if (options.confirm === 'host') this.host = new HostConfirm(options.outbox, options.ackPrefix ?? 'fieldgate/ack', options.node, this.log, this.clock, options.metrics, () => this.drain.wake());
    const host = this.host;
    // host: records the consumer never got are sent again without waiting for a reconnect.
    this.hostStall = host && new HostStall({ clock: this.clock, log: this.log, afterMs: options.hostResendAfterMs ?? HOST_RESEND_AFTER_MS, maxMs: HOST_RESEND_MAX_MS, waiting: () => host.lagRecords(), progress: () => options.outbox.ackedThrough(), restart: () => this.reconnectNow() });
    // Transport acks (PUBACK, or the fence's) that never come end the session (issue 19); in
    // host mode the consumer's own acks may take longer and do not count here.
    this.confirmTimeout = new ConfirmTimeout({
      clock: this.clock,
      timeoutMs: options.confirmTimeoutMs ?? CONFIRM_TIMEOUT_MS,
      waiting: () => this.drain.inflight.size,
      stuck: (waitedMs) => {
        this.log.warn({ code: 'FG_ERR_UPSTREAM_TIMEOUT', url: this.session.url, inflight: this.drain.inflight.size, waitedMs }, 'upstream confirmed nothing in time: ending the session, in-flight records are sent again');
        this.client?.end(true);
      },
    });
    this.drain = new Drain({
      bridge: options,
      log: this.log,
      clock: this.clock,
      metrics: this.metrics,
      fence: this.fence,
      host: this.host,
      active: () => !this.stopped,
      progress: () => this.confirmTimeout.progress(),
      restart: () => this.reconnectNow(),
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
    for (const s of this.options.servers ?? [this.options.session]) buildClientOptions(s);
    this.unsubscribeAppend = this.options.outbox.onAppend(() => this.drain.appended());
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
    this.drain.commitNow();
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
    return { connected: this.connected, ...this.drain.status() };
  }

  private connect(): void {
    if (this.stopped) return;
    const gen = ++this.generation;
    let client: MqttClient;
    this.session = { ...this.servers.current.session, protocolVersion: this.guard.protocolVersion };
    this.attemptStartedAt = this.clock.monotonic();
    this.closing = false;
    try {
      client = connectClient(this.session, this.options.willFor?.());
    } catch (e) {
      // mqtt.js throws synchronously for some bad URLs or TLS material: retry later, never crash.
      this.failures.failed(gen, errorMessage(e), 'upstream connect failed');
      this.scheduleReconnect();
      return;
    }
    this.client = client;
    this.drain.attach(client, this.session.protocolVersion);
    client.on('connect', (connack) => {
      if (gen !== this.generation) return;
      this.onSessionUp(client, connack.properties);
    });
    client.on('message', (topic, payload, packet) => {
      if (gen !== this.generation) return;
      this.inbound.seen(client.stream);
      if (this.host !== undefined && topic === this.host.topic) return this.host.onAck(payload);
      this.guard.message(topic);
      deliverCommand(this.options, topic, payload, packet, this.log);
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
    this.drain.open(props);
    const st = this.options.outbox.stats();
    this.drain.resetLanes();
    this.log.info({ url: this.session.url, backlog: st.depth, backlogBytes: st.bytes, epoch: st.epoch, window: this.drain.window, maxQos: this.drain.maxQos, failedAttempts, unlogged }, 'upstream connected');
    this.host?.subscribe(client);
    subscribeCommands(client, this.options, this.session.protocolVersion, this.log);
    this.confirmTimeout.start();
    this.hostStall?.start();
    this.options.onConnect?.(client);
    this.drain.wake();
  }

  private onSessionDown(client: MqttClient): void {
    const wasConnected = this.connected;
    const gen = this.generation;
    const suspect = wasConnected ? suspectTopic(this.options.outbox, this.drain.inflight, this.fence, this.lastPublishNow) : undefined;
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
      this.options.onDisconnect?.();
      this.metrics.reconnects.inc();
      this.log.warn({ url: this.session.url }, 'upstream connection lost');
      // Only a session that lasted resets the backoff: a broker that accepts and then drops
      // us at once (kicked, malformed, overloaded) must not be hammered at the minimum delay.
      const lasted = this.clock.monotonic() - this.sessionStartedAt;
      if (lasted >= STABLE_SESSION_MS) this.attempt = 0;
      // Closed by the broker, again and again right after the same topic: a refusal (3.1.1).
      penalty = this.guard.sessionEnded(lasted, !this.closing, suspect, this.options.backoff.maxMs);
    }
    this.scheduleReconnect(penalty);
  }

  private scheduleReconnect(override?: number): void {
    if (this.stopped) return;
    const { delayMs: delay, switched } = this.servers.next(backoffDelay(this.attempt++, this.options.backoff, this.random), override);
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
    this.generation++;
    this.drain.detach();
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
    this.drain.wake();
  }

  /** Ends this session now; the usual backoff then connects again (new Will, new bdSeq). */
  reconnectNow(): void {
    this.closing = true;
    this.client?.end(true);
  }

  private clearTimers(): void {
    if (this.reconnectTimer !== undefined) this.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.drain.cancel();
  }
}
