// Field types shared by every config section: durations, sizes, identifiers.
import { z } from 'zod';
import { parseDuration, parseSize } from './units.js';

/**
 * A quantity written with its unit and parsed to a number: durations and sizes. A bare number is
 * refused: `pollInterval: 1` meant one millisecond and polled a meter 500 times a second (issue 12).
 */
function withUnit(unit: { parse: (text: string) => number; units: string; bare: (n: unknown) => string; expected: string; examples: string }) {
  return (description: string) => z
    .string({ error: (iss) => (typeof iss.input === 'number' ? `${iss.input} has no unit: write ${unit.bare(iss.input)} (${unit.units})` : unit.expected) })
    .transform((v, ctx) => {
      try {
        return unit.parse(v);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
        return z.NEVER;
      }
    })
    .meta({ description: `${description} (${unit.examples})` });
}

/** `500ms`, `1s`, `7d`; parsed to milliseconds. */
export const duration = withUnit({
  parse: parseDuration,
  units: 'a duration needs a unit: ms, s, m, h, d, w',
  bare: (n) => `${n}ms or ${n}s`,
  expected: 'expected a duration such as 500ms, 1s, 5m or 7d',
  examples: 'duration with a unit: 500ms, 1s, 5m, 2h, 7d',
});

/** `512MiB`, `2GB`, `100B`; parsed to bytes. */
export const size = withUnit({
  parse: parseSize,
  units: 'a size needs a unit: B, KB, KiB, MB, MiB, GB, GiB',
  bare: (n) => `${n}B, ${n}KiB or ${n}MiB`,
  expected: 'expected a size such as 64KiB, 512MiB or 2GB',
  examples: 'size with a unit: 64KiB, 512MiB, 2GB',
});

/** A whole number of at least one (a count of polls, of sockets), with its default. */
export function count(description: string, fallback: number) {
  return z.number().int().min(1).default(fallback).meta({ description });
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
