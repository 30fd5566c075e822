// Keeps one device alive: connects, polls on a fixed-rate schedule, turns readings into tag
// updates, declares the device offline after `offlineAfter` failed polls and reconnects with
// jittered exponential backoff. Each device has its own supervisor, timers and timeouts, so a
// slow or dead device never delays another.
import type { DeviceConfig } from '../config/sections/devices.js';
import { FieldgateError, errorMessage } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import type { Clock, TimerHandle } from './clock.js';
import type { Driver, DriverFactory } from './driver.js';
import { FixedRateLoop } from './fixed-rate.js';
import { pollGroups } from './poll-groups.js';
import type { RuntimeMetrics } from './runtime-metrics.js';
import { toRaw } from './scaling.js';
import { TagState } from './tag-state.js';
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
  private readonly tags = new Map<string, TagState>();
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

  constructor(private readonly deps: SupervisorDeps) {
    this.device = deps.device;
    this.labels = { device: deps.device.name };
    this.log = deps.logger.child({ device: deps.device.name, driver: deps.device.driver });
    for (const tag of deps.device.tags) {
      this.tags.set(tag.name, new TagState(deps.device.name, tag, tag.maxSilence ?? deps.device.maxSilence));
    }
    this.driver = deps.factory.create({
      device: deps.device,
      logger: this.log,
      metrics: deps.registry,
      clock: deps.clock,
      publish: (readings) => this.acceptReadings(readings),
      reportLink: (up, error) => (up ? this.markOnline() : this.markOffline(error ?? 'link lost', false)),
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
      tags: [...this.tags.values()].map((t) => ({ name: t.config.name, ...t.current() })),
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
      // A subscribing driver is online once connected; heartbeats need their own tick.
      this.markOnline();
      this.heartbeatLoop = new FixedRateLoop({
        clock: this.deps.clock,
        interval: this.device.pollInterval,
        initialDelay: this.device.pollInterval,
        tick: async () => this.emit([...this.tags.values()].map((t) => t.heartbeat(this.deps.clock.now()))),
      });
      this.heartbeatLoop.begin();
    }
  }

  /** `group`: the tag names of one poll group, or undefined when the device has one group. */
  private async pollOnce(group?: readonly string[]): Promise<void> {
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
      this.emit(this.groupTags(group).map((t) => t.fail(now, this.lastError)));
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
    const updates = this.collect(readings, group);
    this.markOnline();
    this.emit(updates);
  }

  private acceptReadings(readings: Reading[]): void {
    if (this.stopping) return;
    // A subscribing driver has no polls: its last data is what "last poll" means for it.
    this.lastPollAt = this.deps.clock.now();
    this.emit(this.collect(readings));
  }

  private collect(readings: Reading[], group?: readonly string[]): Array<TagUpdate | undefined> {
    const now = this.deps.clock.now();
    const inGroup = group === undefined ? undefined : new Set(group);
    const seen = new Set<string>();
    const updates: Array<TagUpdate | undefined> = [];
    for (const r of readings) {
      const tag = this.tags.get(r.tag);
      // A driver that cannot read a subset answers for every tag: keep each group's pace.
      if (tag === undefined || (inGroup !== undefined && !inGroup.has(r.tag))) continue;
      seen.add(r.tag);
      updates.push(tag.accept(r, now));
    }
    for (const tag of this.groupTags(group)) if (!seen.has(tag.config.name)) updates.push(tag.heartbeat(now));
    return updates;
  }

  private groupTags(group?: readonly string[]): TagState[] {
    if (group === undefined) return [...this.tags.values()];
    return group.map((n) => this.tags.get(n)).filter((t): t is TagState => t !== undefined);
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
    const now = this.deps.clock.now();
    this.emit([...this.tags.values()].map((t) => t.fail(now, error)));
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
