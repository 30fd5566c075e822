// Field types shared by every config section: durations, sizes, identifiers.
import { z } from 'zod';
import { parseDuration, parseSize } from './units.js';

/** `500ms`, `1s`, `7d`, or a number of milliseconds; parsed to milliseconds. */
export function duration(description: string) {
  return z
    .union([z.string(), z.number()], { error: 'expected a duration such as 500ms, 1s, 5m or 7d' })
    .transform((v, ctx) => {
      try {
        return parseDuration(v);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
        return z.NEVER;
      }
    })
    .meta({ description: `${description} (duration: 500ms, 1s, 5m, 2h, 7d; a number is milliseconds)` });
}

/** `512MiB`, `2GB`, or a number of bytes; parsed to bytes. */
export function size(description: string) {
  return z
    .union([z.string(), z.number()], { error: 'expected a size such as 64KiB, 512MiB or 2GB' })
    .transform((v, ctx) => {
      try {
        return parseSize(v);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
        return z.NEVER;
      }
    })
    .meta({ description: `${description} (size: 64KiB, 512MiB, 2GB; a number is bytes)` });
}

// Sparkplug B forbids '/', '+' and '#' in group, edge node and device ids [tck-id-topic-structure].
const SPARKPLUG_ID = /^[^/+#\s]+$/;

export function sparkplugId(what: string) {
  return z
    .string({ error: `expected the ${what} as a string` })
    .min(1, `${what} must not be empty`)
    .regex(SPARKPLUG_ID, `${what} must not contain '/', '+', '#' or spaces (Sparkplug topic rules)`)
    .meta({ description: what });
}

export const port = z
  .number({ error: 'expected a TCP port number' })
  .int('port must be a whole number')
  .min(0, 'port must be 0-65535 (0 picks a free port)')
  .max(65535, 'port must be 0-65535');

export const host = z.string({ error: 'expected a host name or address' }).min(1, 'host must not be empty');
