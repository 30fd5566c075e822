// A real Modbus TCP server for tests: modbus-serial's ServerTCP on loopback, an ephemeral port,
// one register bank per unit id, and the misbehaviours field devices show (illegal holes,
// a cap on request size, slowness, silence). Test-only; nothing in the driver imports it.
import type { AddressInfo, Server } from 'node:net';
import modbusSerial from 'modbus-serial';
import type { Table } from '../planner.js';
import { entryOf } from '../../../src/shared/map-entry.js';

const { ServerTCP } = modbusSerial;

export interface UnitBehaviour {
  /** Addresses that answer exception 2 (illegal data address), per table. */
  illegal?: Partial<Record<Table, number[]>>;
  /** Register reads longer than this answer exception 3 (illegal data value). */
  maxRegisters?: number;
  /** Delay before answering a register read, ms. */
  delayMs?: number;
  /** Never answer register reads (a dead slave behind a gateway). */
  silent?: boolean;
  /** Accept writes but do not store them (a read-only register that lies). */
  ignoreWrites?: boolean;
  /** Answer every register read with this exception code. */
  exception?: number;
}

export class UnitBank {
  readonly coil = new Uint8Array(65536);
  readonly discrete = new Uint8Array(65536);
  readonly holding = new Uint16Array(65536);
  readonly input = new Uint16Array(65536);
  behaviour: UnitBehaviour = {};
}

export interface WriteRecord {
  unit: number;
  fc: 5 | 6 | 15 | 16;
  address: number;
  values: number[];
}

/** ServerTCP answers with an exception when the error it is handed carries modbusErrorCode. */
function modbusException(code: number): Error {
  return Object.assign(new Error(`exception ${code}`), { modbusErrorCode: code });
}

export class TestModbusServer {
  readonly units = new Map<number, UnitBank>();
  readonly writes: WriteRecord[] = [];
  /** Register and bit reads as [unit, table, address, count]. */
  readonly reads: Array<[number, Table, number, number]> = [];
  private server: InstanceType<typeof ServerTCP> | undefined;
  port = 0;

  unit(id: number): UnitBank {
    return entryOf(this.units, id, () => new UnitBank());
  }

  get connections(): number {
    return this.server?.socks.size ?? 0;
  }

  /** A started server whose stop() goes on the test's cleanups. */
  static async started(cleanups: Array<() => unknown>): Promise<TestModbusServer> {
    const server = new TestModbusServer();
    await server.start();
    cleanups.push(() => server.stop());
    return server;
  }

  /** Listen on 127.0.0.1; the same port again after a stop() when `port` is already set. */
  async start(): Promise<void> {
    const bank = (unitId: number): UnitBank => this.unit(unitId);
    const checkIllegal = (u: UnitBank, table: Table, addr: number, len: number): void => {
      const holes = u.behaviour.illegal?.[table] ?? [];
      if (holes.some((h) => h >= addr && h < addr + len)) throw modbusException(2);
    };
    const readRegs = (table: 'holding' | 'input') =>
      (addr: number, length: number, unitID: number, cb: (err: Error | null, v: number[]) => void): void => {
        const u = bank(unitID);
        this.reads.push([unitID, table, addr, length]);
        if (u.behaviour.silent === true) return;
        const answer = (): void => {
          try {
            if (u.behaviour.exception !== undefined) throw modbusException(u.behaviour.exception);
            if (u.behaviour.maxRegisters !== undefined && length > u.behaviour.maxRegisters) throw modbusException(3);
            checkIllegal(u, table, addr, length);
            cb(null, Array.from(u[table].subarray(addr, addr + length)));
          } catch (e) {
            cb(e as Error, []);
          }
        };
        if (u.behaviour.delayMs !== undefined) setTimeout(answer, u.behaviour.delayMs);
        else answer();
      };
    const readBit = (table: 'coil' | 'discrete') => (addr: number, unitID: number): boolean => {
      const u = bank(unitID);
      checkIllegal(u, table, addr, 1);
      return u[table][addr] === 1;
    };
    const vector = {
      getMultipleHoldingRegisters: readRegs('holding'),
      getMultipleInputRegisters: readRegs('input'),
      // ServerTCP reads a single register through these instead: same behaviour, one register.
      getHoldingRegister: (addr: number, unitID: number, cb: (err: Error | null, v: number) => void): void =>
        readRegs('holding')(addr, 1, unitID, (err, v) => cb(err, v[0] ?? 0)),
      getInputRegister: (addr: number, unitID: number, cb: (err: Error | null, v: number) => void): void =>
        readRegs('input')(addr, 1, unitID, (err, v) => cb(err, v[0] ?? 0)),
      getCoil: readBit('coil'),
      getDiscreteInput: readBit('discrete'),
      setCoil: (addr: number, value: boolean, unitID: number): void => {
        this.writes.push({ unit: unitID, fc: 5, address: addr, values: [value ? 1 : 0] });
        const u = bank(unitID);
        if (u.behaviour.ignoreWrites !== true) u.coil[addr] = value ? 1 : 0;
      },
      setCoilArray: (addr: number, values: boolean[], unitID: number): void => {
        this.writes.push({ unit: unitID, fc: 15, address: addr, values: values.map((v) => (v ? 1 : 0)) });
        const u = bank(unitID);
        if (u.behaviour.ignoreWrites !== true) values.forEach((v, i) => (u.coil[addr + i] = v ? 1 : 0));
      },
      setRegister: (addr: number, value: number, unitID: number): void => {
        this.writes.push({ unit: unitID, fc: 6, address: addr, values: [value] });
        const u = bank(unitID);
        if (u.behaviour.ignoreWrites !== true) u.holding[addr] = value;
      },
      setRegisterArray: (addr: number, values: number[], unitID: number): void => {
        this.writes.push({ unit: unitID, fc: 16, address: addr, values: [...values] });
        const u = bank(unitID);
        if (u.behaviour.ignoreWrites !== true) values.forEach((v, i) => (u.holding[addr + i] = v));
      },
    };
    // ServerTCP treats port 0 as "unset" and falls back to 502; the string '0' is truthy to it
    // and net.listen still reads it as "any free port".
    const port = (this.port === 0 ? '0' : this.port) as unknown as number;
    const server = new ServerTCP(vector, { host: '127.0.0.1', port, unitID: 255 });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.on('initialized', () => resolve());
      server.on('serverError', (e: unknown) => reject(e));
    });
    // ServerTCP keeps its net.Server private; the bound port is only readable there.
    const inner = (server as unknown as { _server: Server })._server;
    this.port = (inner.address() as AddressInfo).port;
    // ServerTCP leaves Nagle on; a real PLC answers at once, so the bench measures the driver.
    inner.on('connection', (sock) => sock.setNoDelay(true));
  }

  /** Close the listener and every connection (a device losing power). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
