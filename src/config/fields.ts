// Field types shared by every config section: durations, sizes, identifiers.
import { z } from 'zod';
import { parseDuration, parseSize } from './units.js';

/**
 * `500ms`, `1s`, `7d`; parsed to milliseconds. A bare number is refused: `pollInterval: 1`
 * meant one millisecond and polled a meter 500 times a second (issue 12).
 */
export function duration(description: string) {
  return z
    .string({
      error: (iss) => (typeof iss.input === 'number'
        ? `${iss.input} has no unit: write ${iss.input}ms or ${iss.input}s (a duration needs a unit: ms, s, m, h, d, w)`
        : 'expected a duration such as 500ms, 1s, 5m or 7d'),
    })
    .transform((v, ctx) => {
      try {
        return parseDuration(v);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
        return z.NEVER;
      }
    })
    .meta({ description: `${description} (duration with a unit: 500ms, 1s, 5m, 2h, 7d)` });
}

/** `512MiB`, `2GB`, `100B`; parsed to bytes. A bare number is refused, as for durations. */
export function size(description: string) {
  return z
    .string({
      error: (iss) => (typeof iss.input === 'number'
        ? `${iss.input} has no unit: write ${iss.input}B, ${iss.input}KiB or ${iss.input}MiB (a size needs a unit: B, KB, KiB, MB, MiB, GB, GiB)`
        : 'expected a size such as 64KiB, 512MiB or 2GB'),
    })
    .transform((v, ctx) => {
      try {
        return parseSize(v);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
        return z.NEVER;
      }
    })
    .meta({ description: `${description} (size with a unit: 64KiB, 512MiB, 2GB)` });
}

/**
 * An enum whose error explains every choice (issue 12): `byteOrder must be one of ABCD =
 * big-endian, BADC = byte swap, ...`, not a bare list of letters.
 */
export function explainedEnum<const T extends readonly [string, ...string[]]>(what: string, choices: { [K in T[number]]: string }, values: T) {
  const explained = values.map((v) => `${v} = ${choices[v as T[number]]}`).join(', ');
  return z.enum(values, { error: (iss) => `${iss.input === undefined ? `${what} is required` : `${JSON.stringify(iss.input)} is not a ${what}`}: one of ${explained}` })
    .meta({ description: explained });
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
