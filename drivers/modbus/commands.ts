// `fieldgate modbus read` (issue 20): try one register, or a few, before writing a site file.
// The flags become an ordinary device entry, so the read goes through the same schema,
// planner, codec and tag model as the gateway, and prints the same rows as `fieldgate probe`.
import type { DriverCommand, DriverCommandRequest } from '../../src/runtime/driver.js';
import { FieldgateError } from '../../src/errors.js';
import { registerCount, type RegisterType } from './codec.js';
import { isBitTable, type Table } from './planner.js';
import { resolveTag, type ModbusTag } from './schema.js';

const READ_USAGE = `HOST[:PORT] --address A [--unit N] [--table T] [--count C] [--type T] [--byte-order O] [--length L]
       fieldgate modbus read --serial PATH [--baud B] [--parity P] --address A ...   (RTU)
    --address A       0-based protocol address (holding register 0 is "40001" in Modicon notation)
    --table T         holding (default), input, coil, discrete
    --count C         read C consecutive values of --type (default 1)
    --type T          uint16 (default on registers), int16, int32, uint32, int64, uint64, float32,
                      float64, string (with --length), bool
    --byte-order O    ABCD (default), BADC, CDAB, DCBA
    --unit N          unit id (default 1); --timeout 2s; --retries N`;

function text(req: DriverCommandRequest, name: string): string | undefined {
  const v = req.values[name];
  return typeof v === 'string' ? v : undefined;
}

function wholeNumber(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new FieldgateError('FG_ERR_USAGE', `${flag} must be a whole number, got "${v}"`);
  return Number(v);
}

/** `HOST`, `HOST:PORT`, `[v6]:PORT`. */
export function splitHostPort(target: string): { host: string; port?: number } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(target);
  if (v6 !== null) return { host: v6[1] ?? '', ...(v6[2] !== undefined ? { port: Number(v6[2]) } : {}) };
  const m = /^([^:]+)(?::(\d+))?$/.exec(target);
  if (m === null) throw new FieldgateError('FG_ERR_USAGE', `"${target}" is not HOST or HOST:PORT`);
  return { host: m[1] ?? '', ...(m[2] !== undefined ? { port: Number(m[2]) } : {}) };
}

/** The device entry a `modbus read` command line stands for. */
export function readDevice(req: DriverCommandRequest): Record<string, unknown> {
  const serial = text(req, 'serial');
  const [target, ...extra] = req.positionals;
  if (extra.length > 0) throw new FieldgateError('FG_ERR_USAGE', `unexpected arguments: ${extra.join(' ')}`);
  if ((serial === undefined) === (target === undefined)) throw new FieldgateError('FG_ERR_USAGE', 'give HOST[:PORT] or --serial PATH (one of them)');
  const address = wholeNumber('--address', text(req, 'address'));
  if (address === undefined) throw new FieldgateError('FG_ERR_USAGE', '--address is required');
  const count = wholeNumber('--count', text(req, 'count')) ?? 1;
  if (count < 1 || count > 125) throw new FieldgateError('FG_ERR_USAGE', '--count must be 1-125');
  const table = (text(req, 'table') ?? 'holding') as Table;
  const unitId = wholeNumber('--unit', text(req, 'unit')) ?? 1;
  const retries = wholeNumber('--retries', text(req, 'retries'));

  const connection: Record<string, unknown> = { unitId, ...(retries !== undefined ? { retries } : {}) };
  if (serial !== undefined) {
    Object.assign(connection, { transport: 'rtu', path: serial });
    const baud = wholeNumber('--baud', text(req, 'baud'));
    if (baud !== undefined) connection.baudRate = baud;
    const parity = text(req, 'parity');
    if (parity !== undefined) connection.parity = parity;
  } else {
    const { host, port } = splitHostPort(target ?? '');
    Object.assign(connection, { host, ...(port !== undefined ? { port } : {}) });
  }
  const type = text(req, 'type') as RegisterType | undefined;
  const byteOrder = text(req, 'byte-order');
  const length = wholeNumber('--length', text(req, 'length'));
  const base = {
    table,
    ...(type !== undefined ? { type } : {}),
    ...(byteOrder !== undefined ? { byteOrder } : {}),
    ...(length !== undefined ? { length } : {}),
  };
  const width = isBitTable(table) ? 1 : registerCount({ type: type ?? 'uint16', length });
  const tags = Array.from({ length: count }, (_, i) => ({ name: String(address + i * width), address: address + i * width, ...base }));
  return {
    name: 'modbus-read',
    driver: 'modbus',
    timeout: text(req, 'timeout') ?? '2s',
    connection,
    tags,
  };
}

export const modbusCommands: readonly DriverCommand[] = [
  {
    name: 'read',
    usage: READ_USAGE,
    options: {
      unit: { type: 'string' }, table: { type: 'string' }, address: { type: 'string' }, count: { type: 'string' },
      type: { type: 'string' }, 'byte-order': { type: 'string' }, length: { type: 'string' },
      serial: { type: 'string' }, baud: { type: 'string' }, parity: { type: 'string' },
      timeout: { type: 'string' }, retries: { type: 'string' },
    },
    run: async (req) => req.probe(readDevice(req)),
  },
];

/** `holding 0 ("40001")`, `coil 5`, `input 10+2`: where a tag lives, for probe rows. */
export function describeTag(tag: ModbusTag): string {
  try {
    const r = resolveTag(tag);
    const span = r.count > 1 ? `+${r.count}` : '';
    const modicon = { coil: 0, discrete: 1, input: 3, holding: 4 }[r.table];
    const bit = r.layout.bit !== undefined ? ` bit ${r.layout.bit}` : '';
    return `${r.table} ${r.address}${span}${bit} ("${modicon}${String(r.address + 1).padStart(4, '0')}")`;
  } catch {
    return String(tag.address);
  }
}
