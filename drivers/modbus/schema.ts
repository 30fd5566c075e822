// The modbus device's config: the `connection:` block, the fields a modbus tag adds, and the
// cross-field checks run at config load (so a wrong map fails `fieldgate validate`, not the
// night shift).
import { z } from 'zod';
import { duration, explainedEnum, host, port } from '../../src/config/fields.js';
import type { ConfigProblem } from '../../src/runtime/driver.js';
import type { DeviceConfig, TagConfig } from '../../src/config/sections/devices.js';
import { BYTE_ORDERS, REGISTER_TYPES, registerCount, type ValueLayout } from './codec.js';
import {
  ADDRESS_SPACE, DEFAULT_LIMITS, MAX_BITS_PER_READ, MAX_REGISTERS_PER_READ, TABLES, isBitTable, type Table,
} from './planner.js';

export const TRANSPORTS = ['tcp', 'rtu', 'rtu-over-tcp'] as const;
export type Transport = (typeof TRANSPORTS)[number];

export const connectionSchema = z
  .strictObject({
    transport: explainedEnum('transport', {
      tcp: 'Modbus TCP (MBAP)',
      rtu: 'RTU frames on a serial port',
      'rtu-over-tcp': 'RTU frames (with CRC) through a TCP serial server',
    }, TRANSPORTS).default('tcp'),
    host: host.optional().meta({ description: 'device or gateway address (tcp, rtu-over-tcp)' }),
    port: port.default(502),
    unitId: z.number().int().min(0).max(255).default(1).meta({ description: 'Modbus unit id (slave address); 1-247 on a serial line' }),
    path: z.string().min(1).optional().meta({ description: 'serial device (rtu), e.g. /dev/ttyUSB0 or /dev/serial/by-id/...' }),
    baudRate: z.number().int().min(300).max(921_600).default(9600),
    dataBits: z.union([z.literal(7), z.literal(8)]).default(8),
    parity: explainedEnum('parity', { none: 'no parity bit', even: 'even parity (the Modbus RTU default, 8E1)', odd: 'odd parity' }, ['none', 'even', 'odd'] as const).default('none'),
    stopBits: z.union([z.literal(1), z.literal(2)]).default(1),
    retries: z.number().int().min(0).max(5).default(1).meta({ description: 'extra attempts after a request times out or fails its CRC' }),
    requestTimeout: duration('how long to wait for one response; default: the device timeout split across the attempts').optional(),
    interFrameDelay: duration('silence between RTU frames; default 3.5 character times at the baud rate (1.75 ms above 19,200 baud)').optional(),
    maxRegistersPerRequest: z.number().int().min(1).max(MAX_REGISTERS_PER_READ).default(MAX_REGISTERS_PER_READ),
    maxBitsPerRequest: z.number().int().min(1).max(MAX_BITS_PER_READ).default(MAX_BITS_PER_READ),
    registerGap: z.number().int().min(0).max(MAX_REGISTERS_PER_READ - 2).default(DEFAULT_LIMITS.registerGap).meta({
      description: 'unused registers the planner may read to join two tags into one request',
    }),
    bitGap: z.number().int().min(0).max(MAX_BITS_PER_READ - 2).default(DEFAULT_LIMITS.bitGap),
  })
  .superRefine((c, ctx) => {
    if (c.transport === 'rtu') {
      if (c.path === undefined) ctx.addIssue({ code: 'custom', path: ['path'], message: 'transport rtu needs the serial port path' });
      if (c.host !== undefined) ctx.addIssue({ code: 'custom', path: ['host'], message: 'transport rtu uses path, not host (use rtu-over-tcp for a TCP serial server)' });
    } else {
      if (c.host === undefined) ctx.addIssue({ code: 'custom', path: ['host'], message: `transport ${c.transport} needs host` });
      if (c.path !== undefined) ctx.addIssue({ code: 'custom', path: ['path'], message: `transport ${c.transport} uses host and port, not path` });
    }
  });

export type ModbusConnection = z.output<typeof connectionSchema>;

// A number is always the 0-based protocol address. The 1-based Modicon notation must be a
// quoted string whose first digit names the table, so `40001` (a number) and `"40001"` can
// never be confused: the first is holding register 40001, the second holding register 0.
const MODICON = /^([0134])(\d{4,5})$/;
const MODICON_TABLE: Record<string, Table> = { '0': 'coil', '1': 'discrete', '3': 'input', '4': 'holding' };

export const tagShape = {
  table: explainedEnum('Modbus table', {
    coil: 'read/write bits (FC1/5/15)',
    discrete: 'read-only bits, discrete inputs (FC2)',
    holding: 'read/write registers (FC3/6/16), the default',
    input: 'read-only registers (FC4)',
  }, TABLES).optional().meta({
    description: 'coil (FC1/5/15), discrete (FC2), holding (FC3/6/16), input (FC4); default holding, or the table a "4xxxx" address names',
  }),
  address: z
    .union([
      z.number().int().min(0, 'a protocol address is 0-65535').max(ADDRESS_SPACE - 1, 'a protocol address is 0-65535'),
      z.string().regex(MODICON, 'a string address is 1-based Modicon notation: "40001".."49999" or "400001".."465536" (0 coil, 1 discrete, 3 input, 4 holding)'),
    ], {
      error: (iss) => (iss.input === undefined
        ? 'address is required'
        : 'address is a 0-based number (0-65535) or a quoted 1-based "4xxxx"/"3xxxx" string'),
    })
    .meta({ description: '0-based protocol address (number), or 1-based Modicon notation as a quoted string ("40001" = holding 0)' }),
  type: z.enum(REGISTER_TYPES, { error: `modbus tag type must be one of ${REGISTER_TYPES.join(', ')}` }).optional().meta({
    description: 'default bool on coil/discrete, uint16 on registers',
  }),
  byteOrder: explainedEnum('byte order', {
    ABCD: 'big-endian (the Modbus standard)',
    BADC: 'bytes swapped in each register',
    CDAB: 'registers (words) swapped',
    DCBA: 'little-endian',
  }, BYTE_ORDERS).default('ABCD'),
  bit: z.number().int().min(0).max(15).optional().meta({ description: 'bool from one bit of a register (0 = least significant)' }),
  length: z.number().int().min(1).max(MAX_REGISTERS_PER_READ).optional().meta({ description: 'string: registers (two ASCII characters each)' }),
  readBack: z.boolean().default(false).meta({ description: 'after a write, read the value back and fail the write if it differs' }),
  writeFunction: explainedEnum('write function', {
    single: 'FC5/FC6 where one coil or register',
    multiple: 'always FC15/FC16 (devices that lack FC6)',
  }, ['single', 'multiple'] as const).optional(),
};

export interface ModbusTagFields {
  table?: Table | undefined;
  address: number | string;
  type?: (typeof REGISTER_TYPES)[number] | undefined;
  byteOrder: (typeof BYTE_ORDERS)[number];
  bit?: number | undefined;
  length?: number | undefined;
  readBack: boolean;
  writeFunction?: 'single' | 'multiple' | undefined;
}

export type ModbusTag = TagConfig<ModbusTagFields>;
export type ModbusDevice = DeviceConfig<ModbusConnection, ModbusTagFields>;

/** A tag with its address and layout resolved: what the planner and the codec work with. */
export interface ResolvedTag {
  name: string;
  table: Table;
  address: number;
  /** Registers or bits. */
  count: number;
  layout: ValueLayout;
  writable: boolean;
  readBack: boolean;
  writeFunction: 'single' | 'multiple' | undefined;
}

export class TagProblem extends Error {
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

export function resolveTag(tag: ModbusTag): ResolvedTag {
  let table = tag.table;
  let address: number;
  if (typeof tag.address === 'string') {
    const m = MODICON.exec(tag.address);
    if (m === null) throw new TagProblem('address', `"${tag.address}" is not Modicon notation`);
    const named = MODICON_TABLE[m[1] ?? ''] ?? 'holding';
    const oneBased = Number(m[2]);
    const maxOneBased = (m[2] ?? '').length === 4 ? 9999 : ADDRESS_SPACE;
    if (oneBased < 1 || oneBased > maxOneBased) {
      throw new TagProblem('address', `"${tag.address}": the register number after the table digit is 1-based (1-${maxOneBased})`);
    }
    if (table !== undefined && table !== named) {
      throw new TagProblem('table', `table ${table} contradicts address "${tag.address}", which names the ${named} table`);
    }
    table = named;
    address = oneBased - 1;
  } else {
    address = tag.address;
  }
  table ??= 'holding';
  const type = tag.type ?? defaultType({ table, address });
  if (isBitTable(table) && type !== 'bool') throw new TagProblem('type', `a ${table} holds one bit: type must be bool, not ${type}`);
  if (tag.bit !== undefined && (type !== 'bool' || isBitTable(table))) {
    throw new TagProblem('bit', 'bit picks one bit of a holding or input register and needs type bool');
  }
  if (type === 'string' && tag.length === undefined) throw new TagProblem('length', 'a string tag needs length (registers)');
  if (type !== 'string' && tag.length !== undefined) throw new TagProblem('length', 'length applies to string tags only');
  if (tag.writable && (table === 'discrete' || table === 'input')) {
    throw new TagProblem('writable', `the ${table} table is read-only in Modbus`);
  }
  const layout: ValueLayout = { type, byteOrder: tag.byteOrder, bit: tag.bit, length: tag.length };
  const count = isBitTable(table) ? 1 : registerCount(layout);
  if (address + count > ADDRESS_SPACE) throw new TagProblem('address', `${type} at ${address} runs past register 65535`);
  return {
    name: tag.name, table, address, count, layout,
    writable: tag.writable, readBack: tag.readBack, writeFunction: tag.writeFunction,
  };
}

/** The type a tag without `type:` has: bool on coils and discrete inputs, uint16 on registers. */
export function defaultType(tag: Pick<ModbusTagFields, 'table' | 'address'>): 'bool' | 'uint16' {
  let table = tag.table;
  if (table === undefined && typeof tag.address === 'string') table = MODICON_TABLE[MODICON.exec(tag.address)?.[1] ?? ''];
  return isBitTable(table ?? 'holding') ? 'bool' : 'uint16';
}

/** Resolves every tag's default type at config load (issue 12: untyped tags crashed the encoder). */
export function resolveDefaults(device: ModbusDevice): ModbusDevice {
  return { ...device, tags: device.tags.map((t) => (t.type !== undefined ? t : { ...t, type: defaultType(t) })) };
}

export function checkDevice(device: ModbusDevice): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const c = device.connection;
  device.tags.forEach((tag, i) => {
    try {
      const r = resolveTag(tag);
      const max = isBitTable(r.table) ? c.maxBitsPerRequest : c.maxRegistersPerRequest;
      if (r.count > max) {
        problems.push({ path: ['tags', i, 'length'], message: `needs ${r.count} registers in one request; maxRegistersPerRequest is ${max}` });
      }
    } catch (e) {
      if (!(e instanceof TagProblem)) throw e;
      problems.push({ path: ['tags', i, e.field], message: e.message });
    }
  });
  if (c.transport === 'rtu' && (c.unitId < 1 || c.unitId > 247)) {
    // Modbus over Serial Line v1.02 §2.2: 0 is broadcast (no reply), 248-255 reserved.
    problems.push({ path: ['connection', 'unitId'], message: 'on a serial line the unit id is 1-247 (0 is broadcast, which never answers)' });
  }
  return problems;
}
