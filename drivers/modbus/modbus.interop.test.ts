// The modbus driver against a peer nobody here wrote: Debian's python3-pymodbus 3.0 server,
// over TCP, over a socat pseudo-terminal pair (RTU), and RTU over TCP through socat.
// Register fixtures are built by pymodbus's BinaryPayloadBuilder, not by the driver's codec.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModbusDriver } from './index.js';
import { byTag, harness, signal, type Harness } from './testing/harness.js';
import { startPymodbus, startSocat, type PeerTag, type PymodbusPeer, type Socat } from './testing/peers.js';
import { useCleanups } from '../../test/helpers/cleanups.js';

const cleanups = useCleanups();

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fieldgate-modbus-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expected(t: PeerTag): unknown {
  return t.type === 'int64' || t.type === 'uint64' ? BigInt(t.value as string) : t.value;
}

function tagConfigs(tags: PeerTag[]): Array<Record<string, unknown>> {
  return tags.map((t) => ({
    name: t.name, table: t.table, address: t.address, type: t.type, byteOrder: t.byteOrder,
    ...(t.length !== undefined ? { length: t.length } : {}),
  }));
}

function make(factory: ReturnType<typeof createModbusDriver>, name: string, connection: Record<string, unknown>, tags: Array<Record<string, unknown>>, timeout = '2s'): Harness {
  const h = harness(factory, { name, driver: 'modbus', timeout, connection, tags });
  cleanups.push(() => h.driver.stop());
  return h;
}

async function pymodbus(args: string[]): Promise<PymodbusPeer> {
  const peer = await startPymodbus(args);
  cleanups.push(() => peer.stop());
  return peer;
}

async function socat(a: string, b: string): Promise<Socat> {
  const s = await startSocat([a, b]);
  cleanups.push(() => s.stop());
  return s;
}

const writeTags = [
  { name: 'w-u16', table: 'holding', address: 1500, type: 'uint16', writable: true },
  { name: 'w-f32', table: 'holding', address: 1502, type: 'float32', byteOrder: 'CDAB', writable: true, readBack: true },
  { name: 'w-i64', table: 'holding', address: 1510, type: 'int64', byteOrder: 'ABCD', writable: true, writeFunction: 'multiple' },
  { name: 'w-coil', table: 'coil', address: 20, writable: true },
];

async function checkWrites(h: Harness, peer: PymodbusPeer): Promise<void> {
  const tag = (n: string) => h.device.tags.find((t) => t.name === n) as never;
  await h.driver.write(tag('w-u16'), 4321, signal());
  await h.driver.write(tag('w-f32'), -2.5, signal());
  await h.driver.write(tag('w-i64'), -2n, signal());
  await h.driver.write(tag('w-coil'), true, signal());
  expect(await peer.get(1, 'holding', 1500, 1)).toEqual([4321]);
  // -2.5 is 0xC0200000; CDAB puts the low word first.
  expect(await peer.get(1, 'holding', 1502, 2)).toEqual([0x0000, 0xc020]);
  expect(await peer.get(1, 'holding', 1510, 4)).toEqual([0xffff, 0xffff, 0xffff, 0xfffe]);
  expect(await peer.get(1, 'coil', 20, 1)).toEqual([1]);
}

describe('pymodbus over TCP', () => {
  it('every type and byte order decodes to the value pymodbus encoded; writes land', async () => {
    const peer = await pymodbus(['tcp']);
    const factory = createModbusDriver();
    const h = make(factory, 'plc', { host: '127.0.0.1', port: peer.port, unitId: 1 }, [...tagConfigs(peer.tags), ...writeTags]);
    await h.driver.start();
    const r = byTag(await h.driver.poll(signal()));
    for (const t of peer.tags) expect(r.get(t.name), t.name).toEqual({ tag: t.name, value: expected(t), quality: 'GOOD' });
    expect(peer.tags.length).toBeGreaterThanOrEqual(35);
    await checkWrites(h, peer);
  });

  it('learns the end of pymodbus\'s register block from its illegal-address exception', async () => {
    const peer = await pymodbus(['tcp']);
    // Unit 1's holding block is 2,000 registers: 1999 is the last legal address.
    const h = make(createModbusDriver(), 'edge', { host: '127.0.0.1', port: peer.port, unitId: 1 }, [
      { name: 'last', address: 1999 },
      { name: 'beyond', address: 2001 },
    ]);
    await h.driver.start();
    const first = byTag(await h.driver.poll(signal()));
    expect(first.get('last')).toMatchObject({ quality: 'GOOD', value: 0 });
    expect(first.get('beyond')).toMatchObject({ quality: 'BAD', error: expect.stringMatching(/exception 2/i) });
    const before = h.metrics.render().match(/fieldgate_modbus_requests_total\{device="edge",fc="3"\} (\d+)/)?.[1];
    await h.driver.poll(signal());
    const after = h.metrics.render().match(/fieldgate_modbus_requests_total\{device="edge",fc="3"\} (\d+)/)?.[1];
    // Learned: the next poll sends one request (for "last") and none for the hole.
    expect(Number(after) - Number(before)).toBe(1);
  });

  it('two unit ids through one connection', async () => {
    const peer = await pymodbus(['tcp']);
    const factory = createModbusDriver();
    const a = make(factory, 'unit-1', { host: '127.0.0.1', port: peer.port, unitId: 1 }, [{ name: 'x', address: 0, type: 'int16' }]);
    const b = make(factory, 'unit-2', { host: '127.0.0.1', port: peer.port, unitId: 2 }, [{ name: 'x', address: 0 }]);
    await Promise.all([a.driver.start(), b.driver.start()]);
    const [ra, rb] = await Promise.all([a.driver.poll(signal()), b.driver.poll(signal())]);
    expect(ra[0]).toMatchObject({ value: -12345, quality: 'GOOD' });
    expect(rb[0]).toMatchObject({ value: 222, quality: 'GOOD' });
  });
});

describe('pymodbus RTU over a socat pty pair', () => {
  it('every type and byte order over RTU framing; writes land', async () => {
    const server = join(dir, 'rtu-server');
    const client = join(dir, 'rtu-client');
    await socat(`pty,raw,echo=0,link=${server}`, `pty,raw,echo=0,link=${client}`);
    const peer = await pymodbus(['rtu', server, '19200']);
    const h = make(createModbusDriver(), 'meter', { transport: 'rtu', path: client, baudRate: 19200, unitId: 1 }, [...tagConfigs(peer.tags), ...writeTags]);
    await h.driver.start();
    const r = byTag(await h.driver.poll(signal()));
    for (const t of peer.tags) expect(r.get(t.name), t.name).toEqual({ tag: t.name, value: expected(t), quality: 'GOOD' });
    await checkWrites(h, peer);
    // The supervisor stops and restarts a driver after an outage: the port must reopen.
    await h.driver.stop();
    await h.driver.start();
    expect(byTag(await h.driver.poll(signal())).get('w-u16')).toMatchObject({ value: 4321, quality: 'GOOD' });
  });

  it('a slave that never answers on a shared line does not corrupt or starve its neighbour', async () => {
    const server = join(dir, 'bus-server');
    const client = join(dir, 'bus-client');
    await socat(`pty,raw,echo=0,link=${server}`, `pty,raw,echo=0,link=${client}`);
    const peer = await pymodbus(['rtu', server, '19200']);
    const factory = createModbusDriver();
    const line = { transport: 'rtu', path: client, baudRate: 19200, retries: 0 };
    const alive = make(factory, 'alive', { ...line, unitId: 1 }, [{ name: 'x', address: 0, type: 'int16' }], '1s');
    const dead = make(factory, 'dead', { ...line, unitId: 2, requestTimeout: '200ms' }, [{ name: 'x', address: 0 }], '1s');
    await Promise.all([alive.driver.start(), dead.driver.start()]);
    for (let round = 0; round < 3; round++) {
      const t0 = performance.now();
      const [a, d] = await Promise.allSettled([alive.driver.poll(signal()), dead.driver.poll(signal())]);
      expect(a.status).toBe('fulfilled');
      if (a.status === 'fulfilled') expect(a.value[0]).toMatchObject({ value: -12345, quality: 'GOOD' });
      expect(d.status).toBe('rejected');
      if (d.status === 'rejected') expect(d.reason).toMatchObject({ code: 'FG_ERR_MODBUS_TIMEOUT' });
      // The neighbour waits at most for the dead slave's one timeout on the shared line.
      expect(performance.now() - t0).toBeLessThan(800);
    }
    expect(dead.metrics.render()).toMatch(/fieldgate_modbus_errors_total\{device="dead",kind="timeout"\} 3/);
    // No CRC or framing error on the neighbour: the dead slave's turn never overlapped its frames.
    expect(alive.metrics.render()).not.toMatch(/fieldgate_modbus_errors_total\{/);
    expect(peer.tags.length).toBeGreaterThan(0);
  });
});

describe('pymodbus RTU over TCP (socat TCP listener in front of the serial server)', () => {
  it('reads and writes RTU frames carried over a TCP socket', async () => {
    const server = join(dir, 'gw-server');
    const gw = await socat(`pty,raw,echo=0,link=${server}`, 'TCP-LISTEN:0,bind=127.0.0.1,reuseaddr');
    const peer = await pymodbus(['rtu', server, '19200']);
    const [host, port] = (gw.listening ?? '').split(':');
    const h = make(createModbusDriver(), 'drive', { transport: 'rtu-over-tcp', host, port: Number(port), unitId: 1 }, [...tagConfigs(peer.tags), ...writeTags]);
    await h.driver.start();
    const r = byTag(await h.driver.poll(signal()));
    for (const t of peer.tags) expect(r.get(t.name), t.name).toEqual({ tag: t.name, value: expected(t), quality: 'GOOD' });
    await checkWrites(h, peer);
  });
});
