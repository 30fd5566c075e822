// The command side of probing: pick devices and tags from a site file (or a device the
// driver's own subcommand built from flags), probe them concurrently, print one row per tag.
// Exit codes (issue 20): 0 every tag GOOD, 1 any other, 2 bad file or selection.
import { ConfigError, formatPath, loadConfigFile } from '../config/load.js';
import { buildConfigSchema } from '../config/schema.js';
import type { DeviceConfig } from '../config/sections/devices.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import type { DriverFactory } from '../runtime/driver.js';
import { formatRows } from './format.js';
import { probeDevice, type ProbeRow } from './probe-device.js';

export const PROBE_ALL_GOOD = 0;
export const PROBE_NOT_GOOD = 1;
export const PROBE_BAD_INPUT = 2;

export interface ProbeIo {
  drivers: readonly DriverFactory[];
  out: (line: string) => void;
  err: (line: string) => void;
  logger: Logger;
}

export async function probeFile(file: string, select: { device?: string | undefined; tag?: string | undefined }, io: ProbeIo): Promise<number> {
  let devices: DeviceConfig[];
  try {
    devices = loadConfigFile(file, io.drivers).devices;
  } catch (e) {
    io.err(e instanceof ConfigError ? e.message : `${file}: ${errorMessage(e)}`);
    return PROBE_BAD_INPUT;
  }
  if (select.device !== undefined) {
    devices = devices.filter((d) => d.name === select.device);
    if (devices.length === 0) {
      io.err(`fieldgate probe: ${file} has no device "${select.device}"`);
      return PROBE_BAD_INPUT;
    }
  } else {
    devices = devices.filter((d) => d.enabled);
  }
  if (select.tag !== undefined) {
    const tag = select.tag;
    devices = devices.filter((d) => d.tags.some((t) => t.name === tag)).map((d) => ({ ...d, tags: d.tags.filter((t) => t.name === tag) }));
    if (devices.length === 0) {
      io.err(`fieldgate probe: no device in ${file} has a tag "${tag}"`);
      return PROBE_BAD_INPUT;
    }
  }
  return probeDevices(devices, io);
}

/** A device built from command-line flags: validated by the same schema as a site file. */
export async function probeRawDevice(raw: Record<string, unknown>, io: ProbeIo): Promise<number> {
  const parsed = buildConfigSchema(io.drivers).safeParse({ version: 1, site: { group: 'probe', node: 'probe' }, devices: [raw] });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      // Paths point into the device built from flags: drop the `devices[0]` prefix.
      const path = formatPath(issue.path.slice(2));
      io.err(`fieldgate: ${path === '' ? '' : `${path}: `}${issue.message}`);
    }
    return PROBE_BAD_INPUT;
  }
  return probeDevices(parsed.data.devices as DeviceConfig[], io);
}

async function probeDevices(devices: readonly DeviceConfig[], io: ProbeIo): Promise<number> {
  // One device after the other: devices on one line share its queue, and a silent unit must
  // not use up its neighbour's time budget (the neighbour would look silent too).
  const rows: ProbeRow[] = [];
  for (const d of devices) {
    const factory = io.drivers.find((f) => f.type === d.driver);
    if (factory === undefined) {
      rows.push(...d.tags.map((t) => ({ device: d.name, tag: t.name, address: '', raw: '', value: null, quality: 'BAD' as const, reason: `no driver "${d.driver}"` })));
      continue;
    }
    rows.push(...(await probeDevice(d, factory, { logger: io.logger })));
  }
  for (const line of formatRows(rows)) io.out(line);
  return rows.every((r) => r.quality === 'GOOD') ? PROBE_ALL_GOOD : PROBE_NOT_GOOD;
}
