// Every metric the edge node announces, by device and name and by alias: births are built
// from it, DATA aliases come from it, commands are resolved through it.
import type { DeviceConfig } from '../config/sections/devices.js';
import { AliasTable } from './aliases.js';
import { metricsOfDevice, type MetricDefinition } from './metric-model.js';

export interface IndexedMetric {
  device: string | undefined;
  def: MetricDefinition;
  alias: bigint;
}

export class MetricIndex {
  private readonly aliases = new AliasTable();
  private readonly byDevice = new Map<string | undefined, Map<string, IndexedMetric>>();
  private readonly byAlias = new Map<bigint, IndexedMetric>();

  constructor(nodeMetrics: readonly MetricDefinition[], devices: readonly DeviceConfig[]) {
    this.addAll(undefined, nodeMetrics);
    for (const d of devices) if (d.enabled) this.addAll(d.name, metricsOfDevice(d));
  }

  private addAll(device: string | undefined, defs: readonly MetricDefinition[]): void {
    const map = new Map<string, IndexedMetric>();
    for (const def of defs) {
      const m = { device, def, alias: this.aliases.aliasOf(device, def.name) };
      map.set(def.name, m);
      this.byAlias.set(m.alias, m);
    }
    this.byDevice.set(device, map);
  }

  /** Reload (issue 20): a device's metrics replaced; kept names keep their aliases. */
  setDevice(name: string, defs: readonly MetricDefinition[]): void {
    const old = this.byDevice.get(name);
    for (const m of old?.values() ?? []) this.byAlias.delete(m.alias);
    this.addAll(name, defs);
  }

  removeDevice(name: string): void {
    for (const m of this.byDevice.get(name)?.values() ?? []) this.byAlias.delete(m.alias);
    this.byDevice.delete(name);
  }

  node(): IndexedMetric[] {
    return [...(this.byDevice.get(undefined)?.values() ?? [])];
  }

  device(name: string): IndexedMetric[] {
    return [...(this.byDevice.get(name)?.values() ?? [])];
  }

  devices(): string[] {
    return [...this.byDevice.keys()].filter((d): d is string => d !== undefined);
  }

  get(device: string | undefined, metric: string): IndexedMetric | undefined {
    return this.byDevice.get(device)?.get(metric);
  }

  byAliasOf(alias: bigint): IndexedMetric | undefined {
    return this.byAlias.get(alias);
  }
}
