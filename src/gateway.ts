// The composition root: builds every part from the config, starts them in dependency order
// and stops them in reverse. Parts never construct each other; they meet only here.
import type { AddressInfo } from 'node:net';
import { Broker } from './broker/index.js';
import type { GatewayConfig } from './config/schema.js';
import { storeSchema } from './config/sections/store.js';
import { LocalSparkplug } from './local-sparkplug.js';
import { LocalValues } from './local-values.js';
import { nodeMetricValues } from './node-metrics-provider.js';
import { HealthRegistry } from './observe/health.js';
import { ObserveServer } from './observe/http-server.js';
import type { Logger } from './observe/logger.js';
import { MetricsRegistry } from './observe/metrics.js';
import { registerProcessMetrics } from './observe/process-metrics.js';
import { StatusEvents } from './observe/status-events.js';
import { takeSnapshot } from './observe/status-model.js';
import { packageVersion } from './package-root.js';
import { systemClock, type Clock, type TimerHandle } from './shared/clock.js';
import type { DriverFactory } from './runtime/driver.js';
import { DriverRegistry } from './runtime/registry.js';
import { Runtime } from './runtime/runtime.js';
import type { TagUpdate, TagValue } from './runtime/types.js';
import { SPARKPLUG_MIGRATIONS, SqliteBdSeqStore, SqliteCommandJournal } from './sparkplug/sparkplug-store.js';
import { BROKER_MIGRATIONS, SqliteBrokerPersistence } from './store/broker-persistence.js';
import { storeOptionsFromConfig } from './store/from-config.js';
import { storeErrorCode } from './store/store-faults.js';
import { errorMessage, FieldgateError } from './errors.js';
import { journalShareOf, openStore, type Store } from './store/open-store.js';
import { applyReload, planReload, summary, type ReloadPlan } from './reload.js';
import { statusSources } from './status-sources.js';
import type { UpstreamPath } from './upstream.js';

export interface GatewayOptions {
  config: GatewayConfig;
  drivers: readonly DriverFactory[];
  logger: Logger;
  clock?: Clock;
}

export class Gateway {
  readonly metrics = new MetricsRegistry();
  readonly health = new HealthRegistry();
  readonly runtime: Runtime;
  private readonly startedAt = Date.now();
  private readonly clock: Clock;
  private store: Store | undefined;
  private journal: SqliteCommandJournal | undefined;
  private broker: Broker | undefined;
  private upstream: UpstreamPath | undefined;
  private local: LocalSparkplug | undefined;
  private localValues: LocalValues | undefined;
  private localMetricsTimer: TimerHandle | undefined;
  private observe: ObserveServer | undefined;
  private httpAddress: AddressInfo | undefined;
  private readonly log: Logger;

  private reloading: Promise<void> = Promise.resolve();

  constructor(private options: GatewayOptions) {
    const { config, logger } = options;
    this.log = logger;
    this.clock = options.clock ?? systemClock;
    registerProcessMetrics(this.metrics, this.startedAt);
    this.runtime = new Runtime({ devices: config.devices, drivers: new DriverRegistry(options.drivers), logger, metrics: this.metrics, clock: this.clock });
    this.health.register('devices', () => {
      const devices = this.runtime.devices().map((d) => ({ name: d.name, state: d.state, ...(d.lastError ? { lastError: d.lastError } : {}) }));
      const online = devices.filter((d) => d.state === 'online').length;
      return { status: online === devices.length ? 'ok' : 'degraded', online, total: devices.length, devices };
    });
    if (config.observe.logSamples) this.runtime.onUpdates((updates) => this.logUpdates(updates));
  }

  async start(): Promise<void> {
    try {
      await this.startParts();
    } catch (e) {
      // Issue 19: a failed start names a documented FG_ERR_STORE_* code, never a raw SQLITE_*.
      const code = e instanceof FieldgateError ? undefined : storeErrorCode(e);
      if (code === undefined) throw e;
      throw new FieldgateError(code, `store ${this.storeFile ?? ''}: ${errorMessage(e)}`, { cause: e });
    }
  }

  private async startParts(): Promise<void> {
    const { config } = this.options;
    const site = config.site;
    // One SQLite file holds the outbox, Sparkplug state and the broker's sessions and retained
    // messages; it exists when anything needs to outlive the process.
    if (this.storeFile !== undefined) {
      const storeOptions = storeOptionsFromConfig(config.store ?? storeSchema.parse({}));
      this.store = openStore({
        ...storeOptions,
        extraMigrations: [SPARKPLUG_MIGRATIONS, BROKER_MIGRATIONS],
        journalMaxBytes: journalShareOf(storeOptions.maxBytes),
        logger: this.log,
      });
      const faults = this.store.faults;
      this.health.register('store', () => faults.health());
    }
    const store = this.store;
    const journal = store !== undefined ? new SqliteCommandJournal(store.db, { maxBytes: store.journalMaxBytes, faults: store.faults }) : undefined;
    this.journal = journal;
    if (journal !== undefined) {
      this.metrics
        .gauge('fieldgate_command_journal_trimmed_rows', 'oldest command journal rows deleted to keep the journal within its share of store.maxBytes, since start')
        .collect(() => [[undefined, journal.trimmed]]);
    }
    const sources = { version: packageVersion(), startedAt: this.startedAt, clock: this.clock, runtime: this.runtime, metrics: this.metrics };

    if (config.broker !== undefined) {
      this.broker = new Broker(config.broker, {
        ...(store !== undefined ? { persistence: new SqliteBrokerPersistence(store.db, { faults: store.faults }) } : {}),
        logger: this.log.child({ part: 'broker' }),
        metrics: this.metrics,
        clock: this.clock,
      });
      await this.broker.listen();
      const broker = this.broker;
      this.health.register('broker', () => ({ status: 'ok', clients: broker.clientCount, retained: broker.retainedCount, listeners: broker.addresses() }));
      if (config.local.sparkplug) {
        this.local = new LocalSparkplug({
          identity: { group: site.group, node: site.node },
          devices: config.devices,
          broker,
          runtime: this.runtime,
          ...(store !== undefined ? { bdSeqStore: new SqliteBdSeqStore(store.db, 'bdSeq.local', store.faults) } : {}),
          ...(journal !== undefined ? { journal } : {}),
          nodeMetrics: (cmds) => nodeMetricValues({ ...sources, outbox: store?.outbox }, cmds),
          clock: this.clock,
          logger: this.log,
        });
        this.local.start();
        this.scheduleLocalNodeMetrics();
      }
      const units = new Map(config.devices.flatMap((d) => d.tags.map((t) => [`${d.name}/${t.name}`, t.unit] as const)));
      this.localValues = new LocalValues({ config: config.local, broker, runtime: this.runtime, journal, clock: this.clock, logger: this.log, units });
      this.localValues.start();
    }

    if (config.upstream !== undefined && store !== undefined) {
      // The bridge and mqtt.js (~7 MiB RSS) load only for a site that has an upstream (issue 15).
      const { UpstreamPath } = await import('./upstream.js');
      this.upstream = new UpstreamPath({
        config: config as GatewayConfig & { upstream: NonNullable<GatewayConfig['upstream']> },
        store,
        ...(journal !== undefined ? { journal } : {}),
        broker: this.broker,
        runtime: this.runtime,
        logger: this.log,
        metrics: this.metrics,
        health: this.health,
        clock: this.clock,
        version: sources.version,
        startedAt: this.startedAt,
      });
      this.upstream.start();
    } else if (config.store !== undefined && config.broker === undefined) {
      this.log.warn({ section: 'store' }, 'store configured without upstream or broker: nothing uses it');
    }

    // Issue 19: commands refused over the per-source rate, by stream.
    this.metrics.gauge('fieldgate_commands_rate_limited', 'command messages refused over the per-source rate limit, since start').collect(() => [
      [{ stream: 'upstream' }, this.upstream?.edgeNode.commandStats().rateLimited ?? 0],
      [{ stream: 'local-sparkplug' }, this.local?.edge.commandStats().rateLimited ?? 0],
      [{ stream: 'local-json' }, this.localValues?.limits.commandsRefused ?? 0],
    ]);

    const http = config.observe.http;
    if (http.enabled) {
      const sources = statusSources({ config, runtime: this.runtime, clock: this.clock, version: packageVersion(), startedAt: this.startedAt, broker: () => this.broker, upstream: () => this.upstream });
      const snapshot = () => takeSnapshot(sources);
      this.observe = new ObserveServer({
        host: http.host,
        port: http.port,
        metrics: this.metrics,
        health: this.health,
        logger: this.log,
        status: { snapshot, events: new StatusEvents({ snapshot, clock: this.clock }) },
        ...(http.users !== undefined ? { users: http.users } : {}),
        ...(http.tls !== undefined ? { tls: http.tls } : {}),
      });
      this.httpAddress = await this.observe.listen();
    }
    this.runtime.start();
    this.log.info({ group: site.group, node: site.node, devices: config.devices.length }, 'gateway started');
  }

  async stop(): Promise<void> {
    // Producers first, then the paths they feed, then the file under them.
    await this.runtime.stop();
    if (this.localMetricsTimer !== undefined) this.clock.clearTimeout(this.localMetricsTimer);
    await this.upstream?.stop();
    this.upstream = undefined;
    this.localValues?.stop();
    this.local?.stop();
    this.local = undefined;
    await this.broker?.close();
    this.broker = undefined;
    this.journal?.flush();
    this.journal = undefined;
    this.store?.close();
    this.store = undefined;
    await this.observe?.close();
    this.observe = undefined;
    this.log.info('gateway stopped');
  }

  /**
   * SIGHUP (issue 20): apply a new, already validated config without a restart. Reloads run
   * one at a time; one log line says what changed and what waits for a restart.
   */
  reload(next: GatewayConfig): Promise<void> {
    const run = async (): Promise<void> => {
      const plan = planReload(this.options.config, next);
      const edgeNodes = [this.upstream?.edgeNode, this.local?.edge].filter((e): e is NonNullable<typeof e> => e !== undefined);
      await applyReload(plan, next, { runtime: this.runtime, edgeNodes, broker: this.broker, clock: this.clock });
      await this.reconnectUpstream(plan, next);
      // Sections that need a restart keep running on what they started with.
      this.options = { ...this.options, config: { ...next, ...Object.fromEntries(plan.restartNeeded.filter((s) => s !== 'broker.listeners').map((s) => [s, this.options.config[s as keyof GatewayConfig]])) } };
      this.log.info(summary(plan), plan.restartNeeded.length > 0 ? 'config reloaded; some changes apply at the next restart' : 'config reloaded');
    };
    const p = this.reloading.then(run);
    this.reloading = p.catch(() => undefined);
    return p;
  }

  /**
   * Reload of `upstream:` (same store): the old session ends cleanly (NDEATH, DISCONNECT) and a
   * new one starts on the new settings over the same outbox, which keeps every record. Its
   * births announce the devices as they are after the reload.
   */
  private async reconnectUpstream(plan: ReloadPlan, next: GatewayConfig): Promise<void> {
    const i = plan.restartNeeded.indexOf('upstream');
    if (i < 0 || plan.restartNeeded.includes('store') || plan.restartNeeded.includes('site') || this.store === undefined) return;
    if (this.upstream === undefined || next.upstream === undefined) return; // adding or removing the upstream needs a restart
    plan.restartNeeded.splice(i, 1);
    plan.reconnected.push('upstream');
    await this.upstream.stop();
    const { UpstreamPath } = await import('./upstream.js');
    this.upstream = new UpstreamPath({
      config: next as GatewayConfig & { upstream: NonNullable<GatewayConfig['upstream']> },
      store: this.store, broker: this.broker, runtime: this.runtime, logger: this.log, metrics: this.metrics,
      health: this.health, clock: this.clock, version: packageVersion(), startedAt: this.startedAt,
    });
    this.upstream.start();
  }

  /** The SQLite file start() opens, when anything needs to outlive the process. */
  get storeFile(): string | undefined {
    const { config } = this.options;
    if (config.store === undefined && config.upstream === undefined && config.broker === undefined) return undefined;
    return (config.store ?? storeSchema.parse({})).path;
  }

  /** The store, edge node and bridge, when `upstream:` is configured. */
  get upstreamPath(): UpstreamPath | undefined {
    return this.upstream;
  }

  get localBroker(): Broker | undefined {
    return this.broker;
  }

  /** Where /metrics and /health listen (the real port when the config says 0). */
  get observeAddress(): AddressInfo | undefined {
    return this.httpAddress;
  }

  private scheduleLocalNodeMetrics(): void {
    this.localMetricsTimer = this.clock.setTimeout(() => {
      this.local?.refreshNodeMetrics();
      if (this.local !== undefined) this.scheduleLocalNodeMetrics();
    }, this.options.config.site.nodeMetricsInterval);
  }

  private logUpdates(updates: readonly TagUpdate[]): void {
    for (const u of updates) {
      this.log.info({ device: u.device, tag: u.tag, value: printable(u.value), quality: u.quality, reason: u.reason }, 'tag update');
    }
  }
}

function printable(v: TagValue | null): string | number | boolean | null {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return Math.round(v * 1e6) / 1e6;
  return v;
}
