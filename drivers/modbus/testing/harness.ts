// Builds real modbus drivers for tests: the device goes through the real config schema (so
// defaults and checks apply), logs are captured as JSON lines, metrics are a real registry.
import { Writable } from 'node:stream';
import { buildConfigSchema } from '../../../src/config/schema.js';
import { createLogger } from '../../../src/observe/logger.js';
import { MetricsRegistry } from '../../../src/observe/metrics.js';
import { systemClock } from '../../../src/shared/clock.js';
import type { Driver, DriverFactory } from '../../../src/runtime/driver.js';
import type { DeviceConfig } from '../../../src/config/sections/devices.js';

export interface Harness {
  driver: Driver & Required<Pick<Driver, 'poll' | 'write'>>;
  device: DeviceConfig;
  metrics: MetricsRegistry;
  logs: Array<Record<string, unknown>>;
}

export function parseDevice(factory: DriverFactory, raw: Record<string, unknown>): DeviceConfig {
  const cfg = buildConfigSchema([factory]).parse({ version: 1, site: { group: 'g', node: 'n' }, devices: [raw] });
  const device = cfg.devices[0];
  if (device === undefined) throw new Error('no device parsed');
  return device as DeviceConfig;
}

export function harness(factory: DriverFactory, raw: Record<string, unknown>, metrics = new MetricsRegistry()): Harness {
  const device = parseDevice(factory, raw);
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const driver = factory.create({
    device,
    logger: createLogger({ level: 'debug', destination: sink }),
    metrics,
    clock: systemClock,
    publish: () => undefined,
    reportLink: () => undefined,
  });
  if (driver.poll === undefined || driver.write === undefined) throw new Error('modbus driver must poll and write');
  return { driver: driver as Harness['driver'], device, metrics, logs };
}

export function signal(ms = 5000): AbortSignal {
  return AbortSignal.timeout(ms);
}

export function byTag<T extends { tag: string }>(readings: readonly T[]): Map<string, T> {
  return new Map(readings.map((r) => [r.tag, r]));
}
