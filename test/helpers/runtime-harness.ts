// A driver test's runtime (issue 16: one copy for the OPC UA and serial tests): the devices of
// one site file polled by a real Runtime with the built-in drivers, every tag update and state
// change recorded, and an `until` that is checked on each of them (no polling interval).
import { builtinDrivers } from '../../drivers/all.js';
import { parseConfigText } from '../../src/config/load.js';
import type { DeviceConfig } from '../../src/config/sections/devices.js';
import { createLogger, silentLogger } from '../../src/observe/logger.js';
import { MetricsRegistry } from '../../src/observe/metrics.js';
import { DriverRegistry } from '../../src/runtime/registry.js';
import { Runtime } from '../../src/runtime/runtime.js';
import type { DeviceStateChange, TagUpdate } from '../../src/runtime/types.js';

export interface Recorded {
  updates: TagUpdate[];
  states: DeviceStateChange[];
  metrics: MetricsRegistry;
}

export interface RuntimeHarness extends Recorded {
  rt: Runtime;
  devices: DeviceConfig[];
  /** Resolves once `pred` holds, checked on every update and state change; fails after `ms` saying `explain()`. */
  until: (pred: () => boolean, ms: number, what: string) => Promise<void>;
}

/** Starts a runtime on `devices` (the YAML list under `devices:`); FG_TEST_LOG=1 logs it to stderr. */
export function startRuntime(devices: string, explain: (r: Recorded) => string): RuntimeHarness {
  const cfg = parseConfigText(`version: 1\nsite: { group: g, node: n }\nobserve: { http: { enabled: false } }\ndevices:\n${devices}`, 'test.yaml', builtinDrivers);
  const metrics = new MetricsRegistry();
  const logger = process.env.FG_TEST_LOG ? createLogger({ level: 'debug', pretty: false, destination: process.stderr }) : silentLogger();
  const rt = new Runtime({ devices: cfg.devices, drivers: new DriverRegistry(builtinDrivers), logger, metrics });
  const recorded: Recorded = { updates: [], states: [], metrics };
  const waiters: Array<() => void> = [];
  const poke = () => waiters.splice(0).forEach((w) => w());
  rt.onUpdates((us) => (recorded.updates.push(...us), poke()));
  rt.onDeviceState((c) => (recorded.states.push(c), poke()));
  const until = (pred: () => boolean, ms: number, what: string) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}; ${explain(recorded)}`)), ms);
      const check = () => {
        if (pred()) {
          clearTimeout(timer);
          resolve();
        } else waiters.push(check);
      };
      check();
    });
  rt.start();
  return { rt, devices: cfg.devices, ...recorded, until };
}
