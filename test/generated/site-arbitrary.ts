// Site files generated from the schema (issue 12): every driver, every Modbus table and tag
// type, optional keys left out at random, odd but valid values. The peers they point at are
// given (a modbus-serial server, a socat pty with an instrument, a node-opcua server), so a
// file that validates can run; a file the checks refuse is counted and skipped.
import fc from 'fast-check';
import { stringify } from 'yaml';
import { REGISTER_TYPES } from '../../drivers/modbus/codec.js';

export interface Peers {
  modbusPort: number;
  /** A pty path with an instrument answering "MEAS?" (poll mode), when this lane has one. */
  serialPath?: string;
  /** Endpoint of the node-opcua test server, when available. */
  opcuaEndpoint?: string;
  opcuaPki?: string;
}

type Obj = Record<string, unknown>;

/** An object with the optional keys present or left out at random. */
function withOptional(required: Record<string, fc.Arbitrary<unknown>>, optional: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Obj> {
  return fc.record({ ...required, ...optional }, { requiredKeys: Object.keys(required) as never[] }) as fc.Arbitrary<Obj>;
}

const duration = (values: string[]) => fc.constantFrom(...values);
const oddNumber = fc.oneof(fc.constantFrom(0, 1, -1, 0.001, 1e6, -273.15, 2 ** 31), fc.double({ min: -1e9, max: 1e9, noNaN: true, noDefaultInfinity: true }));
const tagNameChars = fc.constantFrom(...'abcxyz0129_-./ '.split(''));
const unit = fc.constantFrom('bar', 'degC', 'm3/h', '%', 'kWh', '', 'µS/cm');

/** Fields every tag may have; `numeric` says whether scale/deadband/range make sense. */
function commonTag(numeric: boolean): Record<string, fc.Arbitrary<unknown>> {
  const base: Record<string, fc.Arbitrary<unknown>> = {
    unit,
    description: fc.string({ maxLength: 20 }),
    maxSilence: duration(['500ms', '1s', '2s']),
  };
  if (!numeric) return base;
  return {
    ...base,
    scale: fc.constantFrom(1, 0.1, 10, -1, 0.001, 1e3),
    offset: fc.constantFrom(0, -40, 273.15, 1e-3),
    deadband: fc.oneof(fc.constantFrom(0, 0.5, 100), fc.constantFrom('1%', '0.5%', '50%')),
    range: fc.tuple(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.double({ min: 0.001, max: 1e6, noNaN: true })).map(([min, span]) => ({ min, max: min + span })),
  };
}

function commonDevice(): Record<string, fc.Arbitrary<unknown>> {
  return {
    pollInterval: duration(['100ms', '150ms', '0.25s', '500ms', '1s']),
    timeout: duration(['300ms', '500ms', '1s', '2s']),
    offlineAfter: fc.integer({ min: 1, max: 5 }),
    backoff: withOptional({}, { initial: duration(['100ms', '200ms']), max: duration(['500ms', '1s']) }),
    maxSilence: duration(['1s', '5s']),
    description: fc.string({ maxLength: 20 }),
  };
}

/** Unique tag names for n tags, some with odd but legal characters. */
function tagNames(n: number): fc.Arbitrary<string[]> {
  return fc.array(fc.array(tagNameChars, { minLength: 0, maxLength: 6 }).map((cs) => cs.join('').trim()), { minLength: n, maxLength: n })
    .map((extras) => extras.map((e, i) => `t${i}${e.replace(/^[^A-Za-z0-9_]+/, '')}`.replace(/\s+$/, '')));
}

function tagsOf(kind: fc.Arbitrary<Obj>, max: number): fc.Arbitrary<Obj[]> {
  return fc.integer({ min: 1, max }).chain((n) => fc.tuple(fc.array(kind, { minLength: n, maxLength: n }), tagNames(n)))
    .map(([tags, names]) => tags.map((t, i) => ({ name: names[i], ...t })));
}

// ---- simulator ----------------------------------------------------------------------------

const SIM_NUMERIC = ['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float32', 'float64'] as const;
const simSignal = fc.oneof(
  withOptional({ kind: fc.constant('counter') }, { start: fc.integer({ min: 0, max: 100 }), step: fc.integer({ min: 1, max: 5 }), max: fc.integer({ min: 100, max: 120 }) }),
  withOptional({ kind: fc.constant('sine') }, { min: fc.constant(0), max: fc.constant(100), period: duration(['1s', '20s']), phase: fc.constantFrom(0, 1.57) }),
  withOptional({ kind: fc.constant('square') }, { low: fc.constant(0), high: fc.constant(1), period: duration(['200ms', '2s']), duty: fc.constantFrom(0, 0.5, 1) }),
  withOptional({ kind: fc.constant('random-walk') }, { start: fc.constant(10), step: fc.constantFrom(0.5, 1), min: fc.constant(0), max: fc.constant(100) }),
  fc.record({ kind: fc.constant('constant'), value: fc.integer({ min: 0, max: 100 }) }),
);
const simTag: fc.Arbitrary<Obj> = fc.oneof(
  fc.tuple(fc.option(fc.constantFrom(...SIM_NUMERIC), { nil: undefined }), simSignal, withOptional({}, commonTag(true)))
    .map(([type, signal, rest]) => ({ ...(type !== undefined ? { type } : {}), signal, ...rest })),
  withOptional({}, commonTag(false)).map((rest) => ({ type: 'string', signal: { kind: 'states', values: ['run', 'stop', 'fault'], period: '300ms' }, ...rest })),
  withOptional({}, commonTag(false)).map((rest) => ({ type: 'bool', signal: { kind: 'square', period: '400ms' }, ...rest })),
);
const simulatorDevice = (): fc.Arbitrary<Obj> =>
  fc.tuple(withOptional({}, commonDevice()), withOptional({}, { seed: fc.integer({ min: 0, max: 1000 }), latency: duration(['0ms', '20ms']) }), tagsOf(simTag, 6))
    .map(([dev, connection, tags]) => ({ driver: 'simulator', ...dev, ...(Object.keys(connection).length > 0 ? { connection } : {}), tags }));

// ---- modbus -------------------------------------------------------------------------------

const BIT_TABLES = ['coil', 'discrete'] as const;
const REG_TABLES = ['holding', 'input'] as const;
const NUMERIC_REGISTER_TYPES = REGISTER_TYPES.filter((t) => t !== 'string' && t !== 'bool');
const modbusTag: fc.Arbitrary<Obj> = fc.oneof(
  // A bit table, typed or not, 0-based or Modicon.
  fc.tuple(fc.constantFrom(...BIT_TABLES), fc.integer({ min: 0, max: 300 }), fc.boolean(), fc.boolean(), fc.boolean(), withOptional({}, commonTag(false)))
    .map(([table, address, modicon, typed, writable, rest]) => ({
      ...(modicon ? { address: `${table === 'coil' ? 0 : 1}${String(address + 1).padStart(4, '0')}` } : { table, address }),
      ...(typed ? { type: 'bool' } : {}),
      ...(writable && table === 'coil' ? { writable: true } : {}),
      ...rest,
    })),
  // A register, untyped (uint16) or any numeric type and byte order.
  fc.tuple(fc.constantFrom(...REG_TABLES), fc.integer({ min: 0, max: 300 }), fc.boolean(), fc.option(fc.constantFrom(...NUMERIC_REGISTER_TYPES), { nil: undefined }),
    withOptional({}, { byteOrder: fc.constantFrom('ABCD', 'BADC', 'CDAB', 'DCBA'), writable: fc.boolean(), readBack: fc.boolean(), writeFunction: fc.constantFrom('single', 'multiple') }),
    withOptional({}, commonTag(true)))
    .map(([table, address, modicon, type, opts, rest]) => {
      const writable = table === 'holding' && opts.writable === true;
      const { writable: _w, readBack, writeFunction, ...o } = opts;
      return {
        ...(modicon ? { address: `${table === 'holding' ? 4 : 3}${String(address + 1).padStart(4, '0')}` } : { table, address }),
        ...(type !== undefined ? { type } : {}),
        ...o,
        ...(writable ? { writable: true, ...(readBack !== undefined ? { readBack } : {}), ...(writeFunction !== undefined ? { writeFunction } : {}) } : {}),
        ...rest,
      };
    }),
  // One bit of a register, and a string.
  fc.tuple(fc.constantFrom(...REG_TABLES), fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 15 }), withOptional({}, commonTag(false)))
    .map(([table, address, bit, rest]) => ({ table, address, type: 'bool', bit, ...rest })),
  fc.tuple(fc.constantFrom(...REG_TABLES), fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 10 }), withOptional({}, commonTag(false)))
    .map(([table, address, length, rest]) => ({ table, address, type: 'string', length, ...rest })),
);
const modbusDevice = (p: Peers): fc.Arbitrary<Obj> =>
  fc.tuple(
    withOptional({}, commonDevice()),
    withOptional({}, {
      unitId: fc.integer({ min: 1, max: 247 }),
      retries: fc.integer({ min: 0, max: 2 }),
      maxRegistersPerRequest: fc.integer({ min: 4, max: 125 }),
      maxBitsPerRequest: fc.integer({ min: 1, max: 2000 }),
      registerGap: fc.integer({ min: 0, max: 20 }),
      bitGap: fc.integer({ min: 0, max: 50 }),
      transport: fc.constant('tcp'),
    }),
    tagsOf(modbusTag, 8),
  ).map(([dev, conn, tags]) => ({ driver: 'modbus', ...dev, connection: { host: '127.0.0.1', port: p.modbusPort, ...conn }, tags }));

// ---- serial (poll mode against the pty instrument: "+1.2340E+01,+2.5000E-01,<n>") -------------

const serialTag: fc.Arbitrary<Obj> = fc.oneof(
  fc.tuple(fc.constantFrom(0, 1), fc.option(fc.constantFrom('float64', 'float32'), { nil: undefined }), withOptional({}, commonTag(true)))
    .map(([column, type, rest]) => ({ column, ...(type !== undefined ? { type } : {}), ...rest })),
  fc.tuple(fc.constantFrom('uint32', 'int64', 'float64'), withOptional({}, commonTag(true))).map(([type, rest]) => ({ column: 2, type, ...rest })),
  withOptional({}, commonTag(false)).map((rest) => ({ column: 2, type: 'string', ...rest })),
);
const serialDevice = (p: Peers): fc.Arbitrary<Obj> =>
  fc.tuple(withOptional({}, commonDevice()), withOptional({}, { baudRate: fc.constantFrom(9600, 19200, 115200), encoding: fc.constantFrom('ascii', 'latin1', 'utf8') }), tagsOf(serialTag, 4))
    .map(([dev, conn, tags]) => ({
      driver: 'serial',
      ...dev,
      connection: { path: p.serialPath, mode: 'poll', request: 'MEAS?\r\n', framing: { kind: 'delimiter', delimiter: '\r\n' }, parse: { kind: 'csv' }, ...conn },
      tags,
    }));

// ---- OPC UA --------------------------------------------------------------------------------

const OPCUA_NODES: Array<[string, string | undefined]> = [
  ['ns=1;s=Counter', 'uint32'], ['ns=1;s=Flow', undefined], ['ns=1;s=Stamped', 'float32'], ['ns=1;s=Doubtful', undefined],
  ['ns=1;s=Broken', undefined], ['ns=1;s=Setpoint', 'int16'], ['ns=1;s=Mode', 'string'],
];
const opcuaTag: fc.Arbitrary<Obj> = fc.tuple(fc.constantFrom(...OPCUA_NODES), withOptional({}, { samplingInterval: duration(['50ms', '100ms']), queueSize: fc.integer({ min: 1, max: 10 }) }), withOptional({}, commonTag(false)))
  .map(([[nodeId, type], opts, rest]) => ({ nodeId, ...(type !== undefined ? { type } : {}), ...opts, ...rest }));
const opcuaDevice = (p: Peers): fc.Arbitrary<Obj> =>
  fc.tuple(withOptional({}, commonDevice()), fc.constantFrom('subscribe', 'poll'), withOptional({}, { publishingInterval: duration(['100ms', '250ms']), samplingInterval: duration(['50ms', '100ms']) }), tagsOf(opcuaTag, 4))
    .map(([dev, mode, conn, tags]) => ({ driver: 'opcua', ...dev, timeout: '5s', connection: { endpoint: p.opcuaEndpoint, pki: p.opcuaPki, mode, ...conn }, tags }));

// ---- the site file -------------------------------------------------------------------------

export interface GeneratedSite {
  yaml: string;
  drivers: string[];
}

export function siteArbitrary(p: Peers): fc.Arbitrary<GeneratedSite> {
  const kinds: Array<fc.Arbitrary<Obj>> = [simulatorDevice(), modbusDevice(p)];
  if (p.serialPath !== undefined) kinds.push(serialDevice(p));
  if (p.opcuaEndpoint !== undefined) kinds.push(opcuaDevice(p));
  const device = fc.oneof(...kinds);
  return fc.tuple(fc.array(device, { minLength: 1, maxLength: 3 }), fc.boolean()).map(([devices, logSamples]) => {
    // One serial device per file: the lane's pty has one instrument.
    let serialSeen = false;
    const kept = devices.filter((d) => d.driver !== 'serial' || (serialSeen ? false : (serialSeen = true)));
    const site = {
      version: 1,
      site: { group: 'gen', node: 'edge', nodeMetricsInterval: '1h' },
      observe: { http: { enabled: false }, ...(logSamples ? { logSamples: false } : {}) },
      broker: { listeners: [{ host: '127.0.0.1', port: 0 }] },
      devices: kept.map((d, i) => ({ name: `dev-${i}`, ...d })),
    };
    return { yaml: stringify(site), drivers: kept.map((d) => String(d.driver)) };
  });
}
