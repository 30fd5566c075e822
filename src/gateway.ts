// The composition root: builds every part from the config, starts them in dependency order
// and stops them in reverse. Parts never construct each other; they meet only here.
import type { GatewayConfig } from './config/schema.js';
import type { DriverFactory } from './runtime/driver.js';
import { HealthRegistry } from './observe/health.js';
import { ObserveServer } from './observe/http-server.js';
import type { Logger } from './observe/logger.js';
import { MetricsRegistry } from './observe/metrics.js';
import { registerProcessMetrics } from './observe/process-metrics.js';
import { systemClock, type Clock } from './runtime/clock.js';
import { DriverRegistry } from './runtime/registry.js';
import { Runtime } from './runtime/runtime.js';
import type { TagUpdate, TagValue } from './runtime/types.js';
import type { AddressInfo } from 'node:net';
import { packageVersion } from './package-root.js';
import { UpstreamPath } from './upstream.js';

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
  private observe: ObserveServer | undefined;
  private upstream: UpstreamPath | undefined;
  private readonly startedAt = Date.now();
  private httpAddress: AddressInfo | undefined;
  private readonly log: Logger;

  constructor(private readonly options: GatewayOptions) {
    const { config, logger } = options;
    this.log = logger;
    registerProcessMetrics(this.metrics, this.startedAt);
    this.runtime = new Runtime({
      devices: config.devices,
      drivers: new DriverRegistry(options.drivers),
      logger,
      metrics: this.metrics,
      clock: options.clock ?? systemClock,
    });
    this.health.register('devices', () => {
      const devices = this.runtime.devices().map((d) => ({ name: d.name, state: d.state, ...(d.lastError ? { lastError: d.lastError } : {}) }));
      const online = devices.filter((d) => d.state === 'online').length;
      return { status: online === devices.length ? 'ok' : 'degraded', online, total: devices.length, devices };
    });
    if (config.observe.logSamples) this.runtime.onUpdates((updates) => this.logUpdates(updates));
  }

  async start(): Promise<void> {
    const { config } = this.options;
    if (config.broker !== undefined) {
      // Accepted by the schema so site files can be written now; the part lands with its issue.
      this.log.warn({ section: 'broker' }, 'config section "broker" is not active in this build yet');
    }
    if (config.upstream !== undefined) {
      this.upstream = new UpstreamPath({
        config: config as GatewayConfig & { upstream: NonNullable<GatewayConfig['upstream']> },
        runtime: this.runtime,
        logger: this.log,
        metrics: this.metrics,
        health: this.health,
        clock: this.options.clock ?? systemClock,
        version: packageVersion(),
        startedAt: this.startedAt,
      });
      this.upstream.start();
    } else if (config.store !== undefined) {
      this.log.warn({ section: 'store' }, 'store configured without upstream: nothing is buffered');
    }
    const http = config.observe.http;
    if (http.enabled) {
      this.observe = new ObserveServer({ host: http.host, port: http.port, metrics: this.metrics, health: this.health, logger: this.log });
      this.httpAddress = await this.observe.listen();
    }
    this.runtime.start();
    this.log.info({ group: config.site.group, node: config.site.node, devices: config.devices.length }, 'gateway started');
  }

  async stop(): Promise<void> {
    await this.runtime.stop();
    await this.upstream?.stop();
    this.upstream = undefined;
    await this.observe?.close();
    this.observe = undefined;
    this.log.info('gateway stopped');
  }

  /** The store, edge node and bridge, when `upstream:` is configured. */
  get upstreamPath(): UpstreamPath | undefined {
    return this.upstream;
  }

  /** Where /metrics and /health listen (the real port when the config says 0). */
  get observeAddress(): AddressInfo | undefined {
    return this.httpAddress;
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
