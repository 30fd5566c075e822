import { z } from 'zod';
import { count, duration } from '../fields.js';
import { TAG_TYPES } from '../../shared/tag-types.js';

// Tag names become Sparkplug metric names, where '/' builds folders; '+' and '#' would break
// the JSON topics of the local broker.
const TAG_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.\-/ ]*$/;
const DEVICE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.\-]*$/;

const deadband = z
  .union([
    z.number().nonnegative('deadband must not be negative'),
    z.string().regex(/^\d+(\.\d+)?\s*%$/, 'a percent deadband is written like "2%"'),
  ], { error: 'deadband is a number (absolute, engineering units) or a percent like "2%"' })
  .meta({
    description:
      'report a new value only when it moves this far from the last reported one; "N%" is percent of `range` when given, else of the last reported value',
  });

/** Fields every tag has, whatever its driver. Drivers add their own (address, signal, node id). */
export const commonTagShape = {
  name: z
    .string({ error: 'expected a tag name' })
    .regex(TAG_NAME, "tag name may contain letters, digits, '_', '.', '-', '/', spaces; not '+' or '#'")
    .meta({ description: 'tag name; becomes the Sparkplug metric name ("/" makes folders)' }),
  type: z.enum(TAG_TYPES, { error: `type must be one of ${TAG_TYPES.join(', ')}` }).default('float64'),
  scale: z.number().default(1).meta({ description: 'reported = raw * scale + offset' }),
  offset: z.number().default(0),
  decimals: z.number().int().min(0).max(12).optional().meta({
    description: 'round the reported value to this many decimal places, after scale and offset and before the deadband (53.900000000000006 -> 53.9 with 1)',
  }),
  unit: z.string().optional().meta({ description: 'engineering unit, e.g. bar, degC, m3/h' }),
  deadband: deadband.optional(),
  range: z
    .strictObject({ min: z.number(), max: z.number() })
    .refine((r) => r.max > r.min, 'range.max must be greater than range.min')
    .optional()
    .meta({ description: 'engineering range; the base of a percent deadband' }),
  maxSilence: duration('report the value at least this often even when unchanged (heartbeat)').optional(),
  pollInterval: duration(
    "this tag's own poll interval (a poll group): tags with the same interval are read together, the others at the device's pollInterval; still one Sparkplug device",
  ).optional(),
  writable: z.boolean().default(false).meta({ description: 'accept writes from Sparkplug DCMD and local commands' }),
  description: z.string().optional(),
};

export const commonTagSchema = z.strictObject(commonTagShape);
export type CommonTagConfig = z.infer<typeof commonTagSchema>;

/** Fields every device has, whatever its driver. */
export const commonDeviceShape = {
  name: z
    .string({ error: 'expected a device name' })
    .regex(DEVICE_NAME, "device name may contain letters, digits, '_', '.', '-'; it becomes the Sparkplug device_id")
    .meta({ description: 'unique device name; becomes the Sparkplug device_id' }),
  enabled: z.boolean().default(true),
  description: z.string().optional(),
  pollInterval: duration('time between polls').prefault('1s'),
  timeout: duration('how long one poll or write may take before it counts as failed').prefault('2s'),
  offlineAfter: count('consecutive failed polls before the device is declared offline (DDEATH)', 3),
  backoff: z
    .strictObject({
      initial: duration('first retry delay after the device went offline').prefault('1s'),
      max: duration('longest retry delay').prefault('30s'),
    })
    .prefault({}),
  maxSilence: duration('default heartbeat for every tag of this device').optional(),
};

export interface DeviceConfigBase {
  name: string;
  driver: string;
  enabled: boolean;
  description?: string | undefined;
  pollInterval: number;
  timeout: number;
  offlineAfter: number;
  backoff: { initial: number; max: number };
  maxSilence?: number | undefined;
}

export type TagConfig<Extra = unknown> = CommonTagConfig & Extra;

export interface DeviceConfig<Connection = unknown, TagExtra = unknown> extends DeviceConfigBase {
  connection: Connection;
  tags: Array<TagConfig<TagExtra>>;
}
