// The `connection:` block and tag fields of a serial-line device, and the checks that span
// fields (a regex group that the pattern does not define, a CSV tag without a column).
import { z } from 'zod';
import { duration } from '../../src/config/fields.js';
import type { DeviceConfig } from '../../src/config/sections/devices.js';
import type { ConfigProblem } from '../../src/runtime/driver.js';
import type { FramingRule } from './framing.js';
import type { Checksum, ParseRule, SerialTagExtra } from './parse.js';

const nonEmpty = (what: string) => z.string({ error: `expected ${what} as a string` }).min(1, `${what} must not be empty`);

const framingCommon = {
  maxLength: z
    .number()
    .int()
    .min(1)
    .max(65536)
    .default(1024)
    .meta({ description: 'longest frame in bytes; a longer one is dropped whole and counted, so a babbling device cannot grow memory' }),
  interByteTimeout: duration('silence that ends a frame (kind: idle) or discards a partial frame (other kinds)').optional(),
};

const framingSchema = z
  .discriminatedUnion(
    'kind',
    [
      z.strictObject({ kind: z.literal('delimiter'), delimiter: nonEmpty('the delimiter').default('\r\n'), ...framingCommon }),
      z.strictObject({ kind: z.literal('length'), length: z.number().int().min(1).max(65536).meta({ description: 'bytes per frame' }), ...framingCommon }),
      z.strictObject({ kind: z.literal('markers'), start: nonEmpty('the start marker'), end: nonEmpty('the end marker'), ...framingCommon }),
      z.strictObject({ kind: z.literal('idle'), ...framingCommon }),
    ],
    { error: 'framing.kind must be one of delimiter, length, markers, idle' },
  )
  .prefault({ kind: 'delimiter' })
  .meta({ description: 'how the byte stream is cut into frames' });

const parseSchema = z
  .discriminatedUnion(
    'kind',
    [
      z.strictObject({
        kind: z.literal('regex'),
        pattern: nonEmpty('the pattern').meta({ description: 'JavaScript regular expression; tags take named or numbered groups' }),
        flags: z.string().regex(/^[imsu]*$/, 'flags may be i, m, s, u').default(''),
      }),
      z.strictObject({
        kind: z.literal('csv'),
        separator: nonEmpty('the separator').default(','),
        trim: z.boolean().default(true).meta({ description: 'strip spaces around each field' }),
      }),
      z.strictObject({ kind: z.literal('json') }),
    ],
    { error: 'parse.kind must be one of regex, csv, json' },
  )
  .meta({ description: 'how a frame becomes tag values' });

export const connectionSchema = z.strictObject({
  path: nonEmpty('the port path').meta({ description: 'serial device, e.g. /dev/ttyUSB0 or /dev/serial/by-id/...' }),
  baudRate: z.number().int().min(50).max(4_000_000).default(9600),
  dataBits: z.union([z.literal(5), z.literal(6), z.literal(7), z.literal(8)], { error: 'dataBits must be 5, 6, 7 or 8' }).default(8),
  parity: z.enum(['none', 'even', 'odd', 'mark', 'space'], { error: 'parity must be none, even, odd, mark or space' }).default('none'),
  stopBits: z.union([z.literal(1), z.literal(1.5), z.literal(2)], { error: 'stopBits must be 1, 1.5 or 2' }).default(1),
  rtscts: z.boolean().default(false).meta({ description: 'hardware flow control' }),
  xonxoff: z.boolean().default(false).meta({ description: 'software flow control' }),
  mode: z
    .enum(['listen', 'poll'], { error: 'mode must be listen or poll' })
    .default('listen')
    .meta({ description: 'listen: the device streams frames; poll: send `request` every pollInterval and read one reply' }),
  request: z.string().optional().meta({ description: 'poll mode: bytes sent to ask for a reading, e.g. "R\\r\\n"' }),
  encoding: z.enum(['latin1', 'ascii', 'utf8']).default('latin1').meta({ description: 'text encoding of frames, markers and the request' }),
  framing: framingSchema,
  parse: parseSchema,
  checksum: z.enum(['none', 'nmea'], { error: 'checksum must be none or nmea' }).default('none').meta({
    description: 'nmea: frames are $...*HH sentences; the XOR checksum is checked and stripped before parsing',
  }),
  linkCheck: duration('how often the port device node is checked, so a pulled cable is noticed even when the OS sends no hang-up').prefault('1s'),
  accept: z.string().optional().meta({ description: 'regex: frames not matching it are ignored silently (e.g. NMEA sentence types you do not use)' }),
});

export const tagShape = {
  group: z.union([z.string().min(1), z.number().int().min(0)]).optional().meta({ description: 'parse.kind regex: the group (name or number) holding the value' }),
  column: z.number().int().min(0).optional().meta({ description: 'parse.kind csv: 0-based column' }),
  path: z.string().min(1).optional().meta({ description: 'parse.kind json: dotted path, [n] for array items, e.g. data.values[2]' }),
  when: z.string().optional().meta({ description: 'read this tag only from frames matching this regex (after the checksum is stripped)' }),
  format: z.enum(['nmea-coordinate']).optional().meta({ description: 'nmea-coordinate: ddmm.mmmm followed by an N/S/E/W column, reported in signed degrees' }),
};

export interface Connection {
  path: string;
  baudRate: number;
  dataBits: 5 | 6 | 7 | 8;
  parity: 'none' | 'even' | 'odd' | 'mark' | 'space';
  stopBits: 1 | 1.5 | 2;
  rtscts: boolean;
  xonxoff: boolean;
  mode: 'listen' | 'poll';
  request?: string | undefined;
  encoding: 'latin1' | 'ascii' | 'utf8';
  framing: FramingRule & { maxLength: number; interByteTimeout?: number | undefined };
  parse: ParseRule;
  checksum: Checksum;
  linkCheck: number;
  accept?: string | undefined;
}

function regexProblem(source: string): string | undefined {
  try {
    new RegExp(source);
    return undefined;
  } catch (e) {
    return `not a valid regular expression: ${(e as Error).message}`;
  }
}

export function check(device: DeviceConfig<Connection, SerialTagExtra>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const c = device.connection;
  const at = (...path: Array<string | number>) => ['connection', ...path];
  if (c.mode === 'poll' && (c.request === undefined || c.request === '')) problems.push({ path: at('request'), message: 'poll mode needs a request to send' });
  if (c.mode === 'listen' && c.request !== undefined) problems.push({ path: at('request'), message: 'a request is only sent in poll mode' });
  if (c.framing.kind === 'idle' && c.framing.interByteTimeout === undefined) problems.push({ path: at('framing', 'interByteTimeout'), message: 'idle framing needs interByteTimeout' });
  if (c.framing.kind === 'length' && c.framing.length > c.framing.maxLength) problems.push({ path: at('framing', 'length'), message: 'length is larger than maxLength' });
  if (c.accept !== undefined) {
    const p = regexProblem(c.accept);
    if (p !== undefined) problems.push({ path: at('accept'), message: p });
  }
  let groups: { names: Set<string>; count: number } | undefined;
  if (c.parse.kind === 'regex') {
    const p = regexProblem(c.parse.pattern);
    if (p !== undefined) problems.push({ path: at('parse', 'pattern'), message: p });
    else {
      // Counting groups by matching the empty alternative: new RegExp(`${p}|`) always matches.
      const m = new RegExp(`${c.parse.pattern}|`).exec('');
      groups = { names: new Set(Object.keys(m?.groups ?? {})), count: (m?.length ?? 1) - 1 };
    }
  }
  const field = { regex: 'group', csv: 'column', json: 'path' } as const;
  const want = field[c.parse.kind];
  device.tags.forEach((tag, i) => {
    for (const key of ['group', 'column', 'path'] as const) {
      if (key !== want && tag[key] !== undefined) problems.push({ path: ['tags', i, key], message: `${key} is for parse.kind ${Object.entries(field).find(([, v]) => v === key)?.[0]}; this device uses ${c.parse.kind} (use ${want})` });
    }
    if (tag[want] === undefined) problems.push({ path: ['tags', i, want], message: `parse.kind ${c.parse.kind} needs ${want} on every tag` });
    if (groups !== undefined && tag.group !== undefined) {
      const ok = typeof tag.group === 'number' ? tag.group >= 1 && tag.group <= groups.count : groups.names.has(tag.group);
      if (!ok) problems.push({ path: ['tags', i, 'group'], message: `the pattern has no group ${JSON.stringify(tag.group)}` });
    }
    if (tag.format === 'nmea-coordinate' && c.parse.kind !== 'csv') problems.push({ path: ['tags', i, 'format'], message: 'nmea-coordinate needs parse.kind csv' });
    if (tag.format === 'nmea-coordinate' && tag.type !== 'float64' && tag.type !== 'float32') problems.push({ path: ['tags', i, 'type'], message: 'nmea-coordinate gives degrees: use type float64' });
    if (tag.when !== undefined) {
      const p = regexProblem(tag.when);
      if (p !== undefined) problems.push({ path: ['tags', i, 'when'], message: p });
    }
  });
  return problems;
}
