// What the config needs to know of a driver to validate its devices: the schema half of the
// driver contract (src/runtime/driver.ts extends it with what runs), so src/config depends on
// no runtime module (issue 16).
import type { z } from 'zod';
import type { DeviceConfig } from './sections/devices.js';

export interface DriverCapabilities {
  poll: boolean;
  write: boolean;
  subscribe: boolean;
  browse: boolean;
}

export interface ConfigProblem {
  /** Path below the device, e.g. ['tags', 3, 'address']. */
  path: Array<string | number>;
  message: string;
}

export interface DriverSchema<Connection = unknown, TagExtra = unknown> {
  type: string;
  description: string;
  capabilities: DriverCapabilities;
  /** The `connection:` block of a device using this driver. */
  connectionSchema: z.ZodType<Connection>;
  /** Fields this driver adds to (or overrides in) the common tag fields. */
  tagShape: z.ZodRawShape;
  /** Checks that span fields (overlapping addresses, type vs table); run at config load. */
  check?(device: DeviceConfig<Connection, TagExtra>): ConfigProblem[];
  /**
   * Fills defaults that depend on other fields (a Modbus tag's type follows its table), at
   * config load, so that every consumer (runtime, Sparkplug, local values) sees the resolved
   * device (issue 12: an untyped tag reached the payload encoder as `undefined`).
   */
  resolveDefaults?(device: DeviceConfig<Connection, TagExtra>): DeviceConfig<Connection, TagExtra>;
}
