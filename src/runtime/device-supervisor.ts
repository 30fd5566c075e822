// Keeps one device alive: connects, polls on a fixed-rate schedule, turns readings into tag
// updates, declares the device offline after `offlineAfter` failed polls and reconnects with
// jittered exponential backoff. Each device has its own supervisor, timers and timeouts, so a
// slow or dead device never delays another. What a reading does to its tag is device-tags.ts.
import type { DeviceConfig } from '../config/sections/devices.js';
import { FieldgateError, errorMessage } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
import { createContained } from './contained-driver.js';
import { DeviceTags } from './device-tags.js';
import type { Driver, DriverFactory } from './driver.js';
import { FixedRateLoop } from './fixed-rate.js';
import { pollGroups } from './poll-groups.js';
import type { RuntimeMetrics } from './runtime-metrics.js';
import { toRaw } from './scaling.js';
import type { DeviceSnapshot, DeviceState, DeviceStateChange, Reading, TagUpdate, TagValue } from './types.js';
import { withTimeout } from './with-timeout.js';
import type { MetricsRegistry } from '../observe/metrics.js';

export interface SupervisorDeps {
  device: DeviceConfig;
  factory: DriverFactory;
  logger: Logger;
  registry: MetricsRegistry;
  metrics: RuntimeMetrics;
  clock: Clock;
  random: () => number;
  onUpdates: (updates: TagUpdate[]) => void;
  onState: (change: DeviceStateChange) => void;
}

export class DeviceSupervisor {
  private readonly device: DeviceConfig;
  private readonly driver: Driver;
  private readonly tags: DeviceTags;
  private readonly log: Logger;
  private readonly labels: { device: string };
  private stateValue: DeviceState = 'stopped';
  private failures = 0;
  private attempt = 0;
  private lastError: string | undefined;
  /** Gateway time the last poll ended (either way), for the status page; 0 before the first. */
  private lastPollAt = 0;
  /** Failed polls since start, for the status page (the metric counts the same by result). */
  private pollErrors = 0;
  /** One fixed-rate loop per poll group (issue 20: per-tag pollInterval). */
  private loops: FixedRateLoop[] = [];
  private heartbeatLoop: FixedRateLoop | undefined;
  private retryTimer: TimerHandle | undefined;
  private connecting: Promise<void> | undefined;
  private stopping = false;
  /** Aborted by stop(): cancels a poll, connect or write in progress. */
  private halt = new AbortController();
  /** A subscribing device waits for its first values before it is announced (issue 12). */
  private awaitingFirst: { seen: Set<string>; timer: TimerHandle } | undefined;

  constructor(private readonly deps: SupervisorDeps) {
    this.device = deps.device;
    this.labels = { device: deps.device.name };
    this.log = deps.logger.child({ device: deps.device.name, driver: deps.device.driver });
    this.tags = new DeviceTags(deps.device, this.log);
    this.driver = createContained(deps.factory, {
      device: deps.device,
      logger: this.log,
      metrics: deps.registry,
      clock: deps.clock,
      publish: (readings) => this.acceptReadings(readings),
      reportLink: (up, error) => (up ? this.linkUp() : this.markOffline(error ?? 'link lost', false)),
    });
    deps.metrics.online.set(this.labels, 0);
  }

  get name(): string {
    return this.device.name;
  }

  get state(): DeviceState {
    return this.stateValue;
  }

  start(): void {
    if (this.stateValue !== 'stopped') return;
    this.stopping = false;
    this.halt = new AbortController();
    this.setState('starting');
    this.connecting = this.connect();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.halt.abort();
    this.endAwaitingFirst();
    if (this.retryTimer !== undefined) this.deps.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.connecting;
    await Promise.all(this.loops.map((l) => l.end()));
    await this.heartbeatLoop?.end();
    await this.stopDriver();
    this.setState('stopped');
  }

  snapshot(): DeviceSnapshot {
    return {
      name: this.device.name,
      driver: this.device.driver,
      state: this.stateValue,
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
      lastPollAt: this.lastPollAt,
      pollErrors: this.pollErrors,
      tags: this.tags.snapshot(),
    };
  }

  async write(tagName: string, value: TagValue): Promise<void> {
    const tag = this.tags.get(tagName);
    const reject = (msg: string): never => {
      this.deps.metrics.writes.inc({ ...this.labels, result: 'rejected' });
      throw new FieldgateError('FG_ERR_WRITE_REJECTED', `${this.device.name}/${tagName}: ${msg}`);
    };
    if (tag === undefined) return reject('no such tag');
    if (!tag.config.writable) return reject('tag is not writable');
    if (this.driver.write === undefined) return reject(`driver ${this.device.driver} cannot write`);
    if (this.stateValue !== 'online') {
      this.deps.metrics.writes.inc({ ...this.labels, result: 'rejected' });
      throw new FieldgateError('FG_ERR_DEVICE_OFFLINE', `${this.device.name}/${tagName}: device is ${this.stateValue}`);
    }
    let raw: TagValue;
    try {
      raw = toRaw(value, tag.config);
    } catch (e) {
      return reject(errorMessage(e));
    }
    const write = this.driver.write.bind(this.driver);
    try {
      await withTimeout(this.deps.clock, this.device.timeout, `write ${this.device.name}/${tagName}`, (signal) => write(tag.config, raw, signal), this.halt.signal);
    } catch (e) {
      this.deps.metrics.writes.inc({ ...this.labels, result: 'failed' });
      throw new FieldgateError('FG_ERR_WRITE_FAILED', `${this.device.name}/${tagName}: ${errorMessage(e)}`, { cause: e });
    }
    this.deps.metrics.writes.inc({ ...this.labels, result: 'ok' });
    this.log.info({ tag: tagName }, 'write done');
  }

  private async connect(): Promise<void> {
    this.deps.metrics.reconnects.inc(this.labels);
    try {
      await withTimeout(this.deps.clock, this.device.timeout, `connect ${this.device.name}`, () => this.driver.start(), this.halt.signal);
    } catch (e) {
      if (this.stopping) return;
      this.log.warn({ err: errorMessage(e), attempt: this.attempt + 1 }, 'device connect failed');
      this.markOffline(errorMessage(e), true);
      return;
    }
    if (this.stopping) return;
    if (this.driver.poll !== undefined) {
      this.failures = 0;
      this.loops = pollGroups(this.device).map((group) => new FixedRateLoop({
        clock: this.deps.clock,
        interval: group.interval,
        tick: () => this.pollOnce(group.tags),
        onOverrun: (missed) => {
          this.deps.metrics.overruns.inc(this.labels, missed);
          this.log.debug({ missed, interval: group.interval }, 'poll overran its slot');
        },
      }));
      for (const l of this.loops) l.begin();
    } else {
      // A subscribing driver is announced once its first values are in (or the wait is over),
      // so that its DBIRTH carries them; heartbeats need their own tick.
      this.linkUp();
      this.heartbeatLoop = new FixedRateLoop({
        clock: this.deps.clock,
        interval: this.device.pollInterval,
        initialDelay: this.device.pollInterval,
        tick: async () => this.emit(this.tags.all().map((t) => t.heartbeat(this.deps.clock.now()))),
      });
      this.heartbeatLoop.begin();
    }
  }

  /**
   * Containment (issue 12): an exception anywhere in this device's read and decode path takes
   * this device offline with a code and a log line, and it reconnects; nothing else notices.
   * `group`: the tag names of one poll group (issue 20), or undefined when the device has one.
   */
  private async pollOnce(group?: readonly string[]): Promise<void> {
    try {
      await this.pollOnceUnguarded(group);
    } catch (e) {
      this.fault(e, 'poll');
    }
  }

  private fault(e: unknown, where: string): void {
    if (this.stopping) return;
    const err = errorMessage(e);
    this.log.error({ code: 'FG_ERR_DEVICE_FAULT', where, err }, 'device fault contained: device taken offline');
    this.lastError = `FG_ERR_DEVICE_FAULT: ${err}`;
    this.markOffline(this.lastError, true);
  }

  private async pollOnceUnguarded(group?: readonly string[]): Promise<void> {
    const poll = this.driver.poll?.bind(this.driver);
    if (poll === undefined) return;
    const started = this.deps.clock.monotonic();
    let readings: Reading[];
    try {
      readings = await withTimeout(this.deps.clock, this.device.timeout, `poll ${this.device.name}`, (signal) => poll(signal, group), this.halt.signal);
    } catch (e) {
      if (this.stopping) return;
      const timeout = e instanceof FieldgateError && e.code === 'FG_ERR_DEVICE_TIMEOUT';
      this.deps.metrics.polls.inc({ ...this.labels, result: timeout ? 'timeout' : 'error' });
      this.failures += 1;
      this.pollErrors += 1;
      this.lastPollAt = this.deps.clock.now();
      this.lastError = errorMessage(e);
      const hint = timeout ? this.driver.diagnose?.() : undefined;
      if (hint !== undefined && !this.lastError.includes(hint)) this.lastError += `; ${hint}`;
      if (this.failures === 1) this.log.warn({ err: this.lastError }, 'poll failed');
      const now = this.deps.clock.now();
      this.emit(this.tags.group(group).map((t) => t.fail(now, this.lastError)));
      if (this.failures >= this.device.offlineAfter) this.markOffline(this.lastError, true);
      return;
    }
    if (this.stopping) return;
    this.lastPollAt = this.deps.clock.now();
    this.deps.metrics.polls.inc({ ...this.labels, result: 'ok' });
    this.deps.metrics.pollSeconds.observe(this.labels, (this.deps.clock.monotonic() - started) / 1000);
    if (this.failures > 0) this.log.info({ failures: this.failures }, 'poll recovered');
    this.failures = 0;
    this.attempt = 0;
    // Tag states take the readings before the device is announced online, so that whoever
    // builds a birth certificate from the snapshot sees current values.
    const updates = this.tags.collect(readings, this.deps.clock.now(), group);
    this.markOnline();
    this.emit(updates);
  }

  private acceptReadings(readings: Reading[]): void {
    if (this.stopping) return;
    try {
      // A subscribing driver has no polls: its last data is what "last poll" means for it.
      this.lastPollAt = this.deps.clock.now();
      const updates = this.tags.collect(readings, this.deps.clock.now());
      const waiting = this.awaitingFirst;
      if (waiting !== undefined) {
        for (const r of readings) if (this.tags.has(r.tag)) waiting.seen.add(r.tag);
        if (waiting.seen.size >= this.tags.size) {
          this.endAwaitingFirst();
          this.markOnline();
        }
      }
      this.emit(updates);
    } catch (e) {
      this.fault(e, 'readings');
    }
  }

  /** The link is up: a polling device waits for its next good poll, a subscribing one for data. */
  private linkUp(): void {
    if (this.stopping || this.stateValue === 'online' || this.awaitingFirst !== undefined) return;
    if (this.driver.poll !== undefined) return;
    // Bounded by the device timeout: a tag that never reports must not keep its neighbours
    // unannounced; the birth then carries it BAD, which is the truth.
    const waitMs = this.device.timeout;
    const timer = this.deps.clock.setTimeout(() => {
      const seen = this.awaitingFirst?.seen ?? new Set<string>();
      this.awaitingFirst = undefined;
      this.log.warn({ tags: this.tags.size, withValues: seen.size, waitedMs: waitMs }, 'device announced before every tag had a first value');
      for (const t of this.tags.all()) if (!seen.has(t.config.name)) t.explainMissing(`no value from the device within ${waitMs} ms of connecting`);
      this.markOnline();
    }, waitMs);
    this.awaitingFirst = { seen: new Set(), timer };
  }

  private endAwaitingFirst(): void {
    if (this.awaitingFirst !== undefined) this.deps.clock.clearTimeout(this.awaitingFirst.timer);
    this.awaitingFirst = undefined;
  }

  private emit(updates: Array<TagUpdate | undefined>): void {
    const out = updates.filter((u): u is TagUpdate => u !== undefined);
    if (out.length === 0) return;
    for (const u of out) this.deps.metrics.updates.inc({ ...this.labels, reason: u.reason });
    this.deps.onUpdates(out);
  }

  private markOnline(): void {
    if (this.stateValue === 'online' || this.stopping) return;
    this.lastError = undefined;
    this.setState('online');
  }

  private markOffline(error: string, reconnect: boolean): void {
    if (this.stopping) return;
    this.endAwaitingFirst();
    const now = this.deps.clock.now();
    this.emit(this.tags.all().map((t) => t.fail(now, error)));
    this.lastError = error;
    if (this.stateValue !== 'offline') this.setState('offline', error);
    if (!reconnect) return;
    // Not awaited: we may be inside the loop's own tick, and end() waits for that tick.
    for (const l of this.loops) void l.end();
    this.loops = [];
    void this.stopDriver().then(() => this.scheduleRetry());
  }

  private scheduleRetry(): void {
    if (this.stopping) return;
    const { initial, max } = this.device.backoff;
    const base = Math.min(max, initial * 2 ** this.attempt);
    // ±20% jitter so that devices behind one failed switch do not reconnect in lockstep.
    const delay = Math.round(base * (0.8 + 0.4 * this.deps.random()));
    this.attempt += 1;
    this.log.info({ delayMs: delay, attempt: this.attempt }, 'device reconnect scheduled');
    this.retryTimer = this.deps.clock.setTimeout(() => {
      this.retryTimer = undefined;
      this.connecting = this.connect();
    }, delay);
  }

  private async stopDriver(): Promise<void> {
    try {
      await withTimeout(this.deps.clock, this.device.timeout, `stop ${this.device.name}`, () => this.driver.stop());
    } catch (e) {
      this.log.warn({ err: errorMessage(e) }, 'driver stop failed');
    }
  }

  private setState(state: DeviceState, error?: string): void {
    const previous = this.stateValue;
    if (previous === state) return;
    this.stateValue = state;
    this.deps.metrics.online.set(this.labels, state === 'online' ? 1 : 0);
    const at = this.deps.clock.now();
    if (state === 'offline') this.log.warn({ err: error, previous }, 'device offline');
    else this.log.info({ previous }, `device ${state}`);
    this.deps.onState({ device: this.device.name, state, previous, at, ...(error !== undefined ? { error } : {}) });
  }
}
