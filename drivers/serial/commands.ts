// `fieldgate serial listen PATH` (issue 20): watch what an instrument sends before writing its
// parse rule. Each frame is printed once, with what each parse kind would make of it: the
// CSV columns by index, the JSON document, and with --regex the named and numbered groups.
import type { DriverCommand } from '../../src/runtime/driver.js';
import { FieldgateError, errorMessage } from '../../src/errors.js';
import { systemClock } from '../../src/shared/clock.js';
import { Framer } from './framing.js';
import { checkNmea } from './parse.js';

/** What a frame looks like to each parse kind, as one JSON object. */
export function describeFrame(text: string, regex: RegExp | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = { frame: text };
  const nmea = text.startsWith('$') ? checkNmea(text) : undefined;
  if (nmea !== undefined) out.nmea = 'error' in nmea ? nmea.error : 'checksum ok';
  const body = nmea !== undefined && 'body' in nmea ? nmea.body : text;
  try {
    out.json = JSON.parse(body) as unknown;
  } catch {
    // not JSON: the CSV and regex views say more
  }
  if (body.includes(',') || body.includes(';')) out.csv = body.split(body.includes(',') ? ',' : ';').map((c) => c.trim());
  if (regex !== undefined) {
    const m = regex.exec(body);
    out.regex = m === null ? 'no match' : { ...Object.fromEntries(m.slice(1).map((g, i) => [String(i + 1), g])), ...(m.groups ?? {}) };
  }
  return out;
}

/** "\\r\\n" typed on a command line means CR LF. */
function unescape(s: string): string {
  return s.replace(/\\r/g, '\r').replace(/\\n/g, '\n').replace(/\\t/g, '\t').replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

export const serialCommands: readonly DriverCommand[] = [
  {
    name: 'listen',
    usage: `PATH [--baud 9600] [--parity none] [--delimiter '\\n'] [--regex R] [--count N]
    prints one JSON line per frame: the text, and what csv, json, nmea and --regex parsing see`,
    options: {
      baud: { type: 'string' }, parity: { type: 'string' }, delimiter: { type: 'string' },
      regex: { type: 'string' }, count: { type: 'string' },
    },
    run: async (req) => {
      const [path, ...extra] = req.positionals;
      if (path === undefined || extra.length > 0) throw new FieldgateError('FG_ERR_USAGE', 'give one serial PATH');
      const opt = (k: string): string | undefined => (typeof req.values[k] === 'string' ? (req.values[k] as string) : undefined);
      const baudRate = Number(opt('baud') ?? '9600');
      if (!Number.isInteger(baudRate) || baudRate < 50) throw new FieldgateError('FG_ERR_USAGE', '--baud must be a whole number');
      const parity = (opt('parity') ?? 'none') as 'none' | 'even' | 'odd';
      let regex: RegExp | undefined;
      try {
        regex = opt('regex') !== undefined ? new RegExp(opt('regex') ?? '') : undefined;
      } catch (e) {
        throw new FieldgateError('FG_ERR_USAGE', `--regex: ${errorMessage(e)}`);
      }
      const limit = opt('count') !== undefined ? Number(opt('count')) : Infinity;
      // Loaded here, not at the top: every `fieldgate run` imports this file through the driver
      // list, and serialport with its native binding is ~1 MiB a site without serial never uses (issue 15).
      const { SerialPort } = await import('serialport');
      const port = new SerialPort({ path, baudRate, parity, autoOpen: false });
      await new Promise<void>((resolve, reject) =>
        port.open((e) => (e ? reject(new FieldgateError('FG_ERR_DEVICE_IO', `cannot open ${path}: ${e.message}`, { cause: e })) : resolve())),
      );
      let frames = 0;
      const done = new Promise<void>((resolve) => {
        const framer = new Framer(
          { rule: { kind: 'delimiter', delimiter: unescape(opt('delimiter') ?? '\n') }, maxLength: 4096, interByteTimeout: 1000, encoding: 'latin1' },
          systemClock,
          {
            frame: (f) => {
              const text = f.toString('latin1').replace(/\r$/, '');
              req.out(JSON.stringify(describeFrame(text, regex)));
              frames += 1;
              if (frames >= limit) resolve();
            },
            discard: (reason, bytes) => req.err(`fieldgate serial listen: ${bytes} bytes discarded (${reason})`),
          },
        );
        port.on('data', (chunk: Buffer) => framer.push(chunk));
        port.on('close', () => resolve());
        req.stopped.addEventListener('abort', () => resolve(), { once: true });
      });
      await done;
      if (port.isOpen) await new Promise<void>((r) => port.close(() => r()));
      return 0;
    },
  },
];
