// The runtime owns the tag model for the whole site: one supervisor per enabled device, the
// fan-out of tag updates and device state changes to whoever listens (Sparkplug, the local
// broker, logs), and the routing of writes to the right device.
import type { DeviceConfig } from '../config/sections/devices.js';
import { errorMessage, FieldgateError } from '../errors.js';
import { checkWrite } from './write-check.js';
import type { Logger } from '../observe/logger.js';
import type { MetricsRegistry } from '../observe/metrics.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { DeviceSupervisor } from './device-supervisor.js';
import type { DriverRegistry } from './registry.js';
import { runtimeMetrics, type RuntimeMetrics } from './runtime-metrics.js';
import type { DeviceStateChange, TagUpdate, TagValue } from './types.js';

export interface RuntimeOptions {
  devices: readonly DeviceConfig[];
  drivers: DriverRegistry;
  logger: Logger;
  metrics: MetricsRegistry;
  clock?: Clock;
  random?: () => number;
}

export type UpdateListener = (updates: readonly TagUpdate[]) => void;
export type StateListener = (change: DeviceStateChange) => void;

export class Runtime {
  private readonly supervisors = new Map<string, DeviceSupervisor>();
  private readonly updateListeners: UpdateListener[] = [];
  private readonly stateListeners: StateListener[] = [];
  private readonly log: Logger;
  /** Tag configs by device and tag, for the write check every path shares. */
  private readonly tagConfigs = new Map<string, Map<string, DeviceConfig['tags'][number]>>();

  private readonly metrics: RuntimeMetrics;
  private started = false;

  constructor(private readonly options: RuntimeOptions) {
    this.log = options.logger.child({ component: 'runtime' });
    this.metrics = runtimeMetrics(options.metrics);
    for (const d of options.devices) this.tagConfigs.set(d.name, new Map(d.tags.map((t) => [t.name, t])));
    for (const device of options.devices) {
      if (!device.enabled) {
        this.log.info({ device: device.name }, 'device disabled in config');
        continue;
      }
      this.supervisors.set(device.name, this.supervise(device));
    }
  }

  private supervise(device: DeviceConfig): DeviceSupervisor {
    const options = this.options;
    const factory = options.drivers.get(device.driver);
    if (factory === undefined) throw new FieldgateError('FG_ERR_DRIVER_UNKNOWN', `device ${device.name}: unknown driver "${device.driver}"`);
    return new DeviceSupervisor({
      device,
      factory,
      logger: options.logger,
      registry: options.metrics,
      metrics: this.metrics,
      clock: options.clock ?? systemClock,
      random: options.random ?? Math.random,
      onUpdates: (u) => this.fanOutUpdates(u),
      onState: (c) => this.fanOutState(c),
    });
  }

  /** Reload (issue 20): a device from the new config, started at once when the runtime runs. */
  addDevice(device: DeviceConfig): void {
    if (this.supervisors.has(device.name)) throw new Error(`device ${device.name} already runs`);
    // Writes to the new device's tags are checked against its new config (write-check.ts).
    this.tagConfigs.set(device.name, new Map(device.tags.map((t) => [t.name, t])));
    if (!device.enabled) return;
    const s = this.supervise(device);
    this.supervisors.set(device.name, s);
    if (this.started) s.start();
  }

  /** Reload: stop one device and forget it; its last values leave with it. */
  async removeDevice(name: string): Promise<void> {
    this.tagConfigs.delete(name);
    const s = this.supervisors.get(name);
    if (s === undefined) return;
    this.supervisors.delete(name);
    await s.stop();
  }

  /** Returns the way to stop listening (a part replaced by a reload, issue 20). */
  onUpdates(listener: UpdateListener): () => void {
    this.updateListeners.push(listener);
    return () => removeFrom(this.updateListeners, listener);
  }

  onDeviceState(listener: StateListener): () => void {
    this.stateListeners.push(listener);
    return () => removeFrom(this.stateListeners, listener);
  }

  start(): void {
    this.started = true;
    for (const s of this.supervisors.values()) s.start();
  }

  async stop(): Promise<void> {
    this.started = false;
    await Promise.all([...this.supervisors.values()].map((s) => s.stop()));
  }

  /** Writes an engineering value to a writable tag; rejects with a FieldgateError saying why. */
  async write(device: string, tag: string, value: TagValue): Promise<void> {
    const s = this.supervisors.get(device);
    if (s === undefined) throw new FieldgateError('FG_ERR_WRITE_REJECTED', `no device named "${device}"`);
    const cfg = this.tagConfigs.get(device)?.get(tag);
    if (cfg !== undefined && cfg.writable) {
      try {
        checkWrite(value, cfg);
      } catch (e) {
        throw new FieldgateError('FG_ERR_WRITE_REJECTED', `${device}/${tag}: ${errorMessage(e)}`);
      }
    }
    await s.write(tag, value);
  }

  devices(): ReturnType<DeviceSupervisor['snapshot']>[] {
    return [...this.supervisors.values()].map((s) => s.snapshot());
  }

  private fanOutUpdates(updates: readonly TagUpdate[]): void {
    for (const l of this.updateListeners) {
      try {
        l(updates);
      } catch (e) {
        // One broken consumer must not starve the others or kill the poll loop.
        this.log.error({ err: e }, 'tag update listener failed');
      }
    }
  }

  private fanOutState(change: DeviceStateChange): void {
    for (const l of this.stateListeners) {
      try {
        l(change);
      } catch (e) {
        this.log.error({ err: e }, 'device state listener failed');
      }
    }
  }
}

function removeFrom<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
}
