// The path from the runtime to the control room: the SQLite store, the Sparkplug edge node
// and the upstream bridge, built from config and wired to each other. The gateway owns one of
// these when `upstream:` is configured.
import type { Broker } from './broker/index.js';
import { Bridge } from './bridge/bridge.js';
import { CommandRouter, Forwarder } from './bridge/forwarding.js';
import { bridgeOptionsFromConfig } from './bridge/from-config.js';
import { defaultSenders, sendSparkplugEncoded } from './bridge/sender.js';
import type { GatewayConfig } from './config/schema.js';
import type { UpstreamConfig } from './config/sections/upstream.js';
import type { Logger } from './observe/logger.js';
import type { MetricsRegistry } from './observe/metrics.js';
import type { HealthRegistry } from './observe/health.js';
import type { Clock, TimerHandle } from './shared/clock.js';
import type { Runtime } from './runtime/runtime.js';
import { EdgeNode } from './sparkplug/edge-node.js';
import { SqliteBdSeqStore, SqliteCommandJournal } from './sparkplug/sparkplug-store.js';
import { PerServerHostState } from './sparkplug/state.js';
import { AppendQueue } from './store/append-queue.js';
import type { Store } from './store/open-store.js';
import { nodeMetricValues } from './node-metrics-provider.js';

export interface UpstreamPathOptions {
  config: GatewayConfig & { upstream: UpstreamConfig };
  /** The local broker, when there is one: `upstream.forward` and `upstream.commands` need it. */
  broker?: Broker | undefined;
  /** Opened by the gateway with SPARKPLUG_MIGRATIONS among its extra migrations. */
  store: Store;
  /** The gateway's journal (one per file: it keeps the journal's share of maxBytes). */
  journal?: SqliteCommandJournal;
  runtime: Runtime;
  logger: Logger;
  metrics: MetricsRegistry;
  health: HealthRegistry;
  clock: Clock;
  version: string;
  startedAt: number;
}

/** User property on commands that came down from the upstream; they are never forwarded up. */
const ORIGIN_PROPERTY = 'fg-origin';

export class UpstreamPath {
  readonly store: Store;
  readonly edgeNode: EdgeNode;
  readonly bridge: Bridge;
  readonly journal: SqliteCommandJournal;
  private readonly appendQueue: AppendQueue;
  private nodeMetricsTimer: TimerHandle | undefined;
  private readonly router: CommandRouter;
  private readonly unsubscribe: Array<() => void> = [];
  private stopped = false;

  constructor(private readonly options: UpstreamPathOptions) {
    const { config, runtime, logger, clock } = options;
    const site = config.site;
    this.store = options.store;
    this.appendQueue = new AppendQueue(this.store.outbox);
    this.journal = options.journal ?? new SqliteCommandJournal(this.store.db, { maxBytes: this.store.journalMaxBytes, faults: this.store.faults });
    const hostStates = new PerServerHostState();
    this.edgeNode = new EdgeNode({
      identity: { group: site.group, node: site.node },
      devices: config.devices,
      outbox: this.store.outbox,
      appendQueue: this.appendQueue,
      bdSeqStore: new SqliteBdSeqStore(this.store.db, 'bdSeq', this.store.faults),
      journal: this.journal,
      primaryHost: site.primaryHost,
      // Issue 17: STATE is tracked per server (retained per server, timestamps not comparable).
      primaryHostTracker: () => hostStates.of(this.bridge.servers.current.index),
      write: (device, tag, value) => runtime.write(device, tag, value),
      snapshot: () => runtime.devices(),
      nodeMetrics: () =>
        nodeMetricValues({ version: options.version, startedAt: options.startedAt, clock, runtime, metrics: options.metrics, outbox: this.store.outbox }, this.edgeNode.commandStats()),
      clock,
      logger,
    });
    const edge = this.edgeNode;
    const senders = defaultSenders();
    senders.set(edge.recordKind, (record, ctx) => {
      const m = edge.encode(record);
      if (m === undefined) return undefined;
      return sendSparkplugEncoded({ ...record, topic: m.topic, payload: m.payload, qos: m.qos, retain: false }, ctx);
    });
    const upstream = config.upstream;
    // Local topics up through the outbox, upstream commands down into the local broker.
    const forwarder = new Forwarder(upstream.forward, this.appendQueue, logger);
    const router = new CommandRouter(upstream.commands, (m) => {
      // Tagged so that the forwarder never sends a command back up (loop layer 1).
      options.broker?.publish(m.topic, m.payload, { qos: m.qos, retain: false, properties: { userProperties: { [ORIGIN_PROPERTY]: 'upstream' } } });
    });
    if (options.broker !== undefined) {
      for (const rule of upstream.forward) {
        this.unsubscribe.push(
          options.broker.subscribe(rule.from, (m) => {
            const origin = m.properties?.userProperties?.[ORIGIN_PROPERTY] === 'upstream' ? 'upstream' : 'local';
            forwarder.onLocalPublish({ topic: m.topic, payload: m.payload, qos: m.qos, retain: m.retain, origin }).catch(() => undefined);
          }),
        );
      }
    } else if (upstream.forward.length > 0 || upstream.commands.length > 0) {
      logger.warn('upstream.forward / upstream.commands need a local broker (broker:): ignored');
    }
    this.router = router;
    // The fence only in confirm: fence (issue 13): qos1 and host need no fence PUBLISH.
    const fenceTopic = upstream.confirm !== 'fence' || upstream.fenceTopic === false ? undefined : (upstream.fenceTopic ?? `fieldgate/fence/${site.group}/${site.node}`);
    this.bridge = new Bridge({
      ...bridgeOptionsFromConfig(upstream, site),
      outbox: this.store.outbox,
      senders,
      metrics: options.metrics,
      logger,
      clock,
      subscriptions: [...edge.subscriptions(), ...(options.broker !== undefined ? router.subscriptions() : [])],
      willFor: () => edge.nextWill(),
      mayDrain: () => edge.mayDrain,
      ...(fenceTopic !== undefined ? { fenceTopic } : {}),
      onConnect: () => {
        hostStates.sessionUp(this.bridge.servers.current.index, this.bridge.servers.size);
        edge.sessionUp({
          publishNow: (topic, payload, qos) => void this.bridge.publishNow(topic, payload, qos),
          resumeDrain: () => this.bridge.wake(),
          // Primary host offline here: the next session goes to the next server of the list.
          reconnect: () => {
            this.bridge.servers.hostOffline();
            this.bridge.reconnectNow();
          },
        });
      },
      onDisconnect: () => edge.sessionDown(),
      onMessage: (topic, payload) => {
        if (topic.startsWith('spBv1.0/')) edge.onMessage(topic, payload);
        else this.router.onUpstreamMessage(topic, payload);
      },
    });
    this.unsubscribe.push(runtime.onUpdates((updates) => edge.onUpdates(updates)));
    this.unsubscribe.push(runtime.onDeviceState((change) => edge.onDeviceState(change)));
    options.health.register('upstream', () => {
      const st = this.bridge.status();
      const stats = this.store.outbox.stats();
      return {
        status: st.connected && edge.isBorn ? 'ok' : 'degraded',
        connected: st.connected,
        born: edge.isBorn,
        backlog: stats.depth,
        backlogBytes: stats.bytes,
        dropped: stats.dropped,
        epoch: stats.epoch,
      };
    });
  }

  start(): void {
    this.bridge.start();
    this.scheduleNodeMetrics();
  }

  /** NDEATH, then DISCONNECT (0x04 on MQTT 5); the gateway closes the store after. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.nodeMetricsTimer !== undefined) this.options.clock.clearTimeout(this.nodeMetricsTimer);
    for (const u of this.unsubscribe.splice(0)) u();
    this.appendQueue.flush();
    const ndeath = this.edgeNode.shutdownMessage();
    // [tck-id-operational-behavior-edge-node-intentional-disconnect-ndeath] then
    // [tck-id-payloads-ndeath-will-message-publisher-disconnect-mqtt50].
    await this.bridge.stop(ndeath !== undefined ? { topic: ndeath.topic, payload: ndeath.payload, qos: 1 } : undefined, 0x04);
    this.appendQueue.flush();
  }

  private scheduleNodeMetrics(): void {
    const every = this.options.config.site.nodeMetricsInterval;
    this.nodeMetricsTimer = this.options.clock.setTimeout(() => {
      if (this.stopped) return;
      this.edgeNode.refreshNodeMetrics();
      this.scheduleNodeMetrics();
    }, every);
  }
}
