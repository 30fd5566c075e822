// The driver contract. A driver owns one kind of field protocol and knows nothing of MQTT,
// Sparkplug or SQLite. It is small on purpose: `create` must not connect (config checks run
// without devices present); `start` connects; polling, writing and browsing are optional.
import type { Logger } from '../observe/logger.js';
import type { MetricsRegistry } from '../observe/metrics.js';
import type { Clock } from '../shared/clock.js';
import type { DeviceConfig, TagConfig } from '../config/sections/devices.js';
import type { DriverSchema } from '../config/driver-schema.js';
import type { Reading, TagValue } from './types.js';

export interface DriverContext<Connection = unknown, TagExtra = unknown> {
  readonly device: DeviceConfig<Connection, TagExtra>;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  readonly clock: Clock;
  /** Subscribing drivers push readings here as they arrive (OPC UA, streaming serial). */
  readonly publish: (readings: Reading[]) => void;
  /** Subscribing drivers report a lost or restored link; polling drivers just throw from poll. */
  readonly reportLink: (up: boolean, error?: string) => void;
  /** Set by `fieldgate probe` (issue 20): attach what was read on the wire as `Reading.raw`. */
  readonly probe?: boolean;
}

export interface Driver {
  /** Connect. A rejection counts as a failed attempt; the supervisor retries with backoff. */
  start(): Promise<void>;
  /** Release every socket, port and timer. Must be safe to call after a failed start. */
  stop(): Promise<void>;
  /**
   * Read every tag once. A rejection means the device did not answer (all tags BAD, counts
   * toward offline); per-tag trouble is a Reading with quality BAD and the poll still resolves.
   * `signal` aborts when the device's timeout expires. `tags` (issue 20, poll groups): read
   * only these when given; a driver that ignores it may answer for every tag.
   */
  poll?(signal: AbortSignal, tags?: readonly string[]): Promise<Reading[]>;
  /**
   * What to check when the device has been silent since it started (issue 20), e.g. "check
   * unitId (7)": the supervisor appends it to a poll that timed out. Undefined when unknown.
   */
  diagnose?(): string | undefined;
  /** Write a raw (already unscaled) value to a writable tag. */
  write?(tag: TagConfig, value: TagValue, signal: AbortSignal): Promise<void>;
}

export type { ConfigProblem, DriverCapabilities } from '../config/driver-schema.js';

/** The schema half lives in src/config (it validates site files); this adds what runs. */
export interface DriverFactory<Connection = unknown, TagExtra = unknown> extends DriverSchema<Connection, TagExtra> {
  create(ctx: DriverContext<Connection, TagExtra>): Driver;
  /**
   * `fieldgate <type> browse TARGET`: list what a device offers as a YAML `tags:` block to
   * paste into a site file. Options come from the command line as strings.
   */
  browse?(target: string, options: BrowseRequest): Promise<string>;
  /**
   * Flags `fieldgate <type> browse` takes beyond --root and --depth; each value reaches
   * browse() in `extra` under its camelCase name (`--security-mode` → securityMode), so no
   * driver's flags are spelled out in src/cli.ts (issue 16).
   */
  browseOptions?: Record<string, { type: 'string' }>;
  /** Lines for `fieldgate --help` under `DRIVER browse TARGET`: an example, then the flags. */
  browseUsage?: string;
  /** Where a tag lives on the device, for `fieldgate probe` rows: `holding 0 ("40001")`. */
  describeTag?(tag: TagConfig<TagExtra>): string;
  /**
   * Subcommands this driver adds to the command line (`fieldgate modbus read ...`), so that
   * nothing driver-specific lands in src/cli.ts (issue 20).
   */
  commands?: readonly DriverCommand[];
}

/** One `fieldgate <driver> <name> ...` subcommand. */
export interface DriverCommand {
  name: string;
  /** One usage line after `fieldgate <driver> <name>`, then lines of option help. */
  usage: string;
  /** node:util parseArgs options (all strings or booleans). */
  options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;
  run(request: DriverCommandRequest): Promise<number>;
}

export interface DriverCommandRequest {
  positionals: string[];
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  /** Read a device given as a raw (unparsed) site-file device entry once and print rows. */
  probe(device: Record<string, unknown>): Promise<number>;
  out: (line: string) => void;
  err: (line: string) => void;
  logger: Logger;
  /** Ends when the operator presses Ctrl-C (for commands that run until stopped). */
  stopped: AbortSignal;
}

export interface BrowseRequest {
  /** Where to start (a node id, a register range...), driver-defined. */
  root?: string | undefined;
  depth?: number | undefined;
  /** Driver-specific switches from the command line (`--security-mode Sign` → securityMode). */
  extra: Record<string, string>;
  logger: Logger;
}

/** The config half a driver's schema module exports: what `fieldgate validate` checks. */
export type DriverSchemaParts<C, T> = Pick<DriverFactory<C, T>, 'connectionSchema' | 'tagShape' | 'check' | 'resolveDefaults'>;

/**
 * Joins a driver's schema parts (its `schema.ts`) and what runs into the one factory the
 * registry holds; each driver keeps its own types.
 */
export function defineDriver<C, T>(schema: DriverSchemaParts<C, T>, driver: Omit<DriverFactory<C, T>, keyof DriverSchemaParts<C, T>>): DriverFactory {
  const factory: DriverFactory<C, T> = { ...driver, connectionSchema: schema.connectionSchema, tagShape: schema.tagShape };
  if (schema.check !== undefined) factory.check = schema.check;
  if (schema.resolveDefaults !== undefined) factory.resolveDefaults = schema.resolveDefaults;
  return factory as unknown as DriverFactory;
}
