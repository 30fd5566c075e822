// A shared RTU line at a real baud rate (emulated wire timing behind a loopback socket):
// devices on one line never overlap frames, keep 3.5 character times of silence, and a
// silent slave costs its neighbours only its own timeout.
import { describe, expect, it } from 'vitest';
import { createModbusDriver } from './index.js';
import { interFrameDelayMs } from './line.js';
import { harness, signal, type Harness } from './testing/harness.js';
import { RtuWireServer, crc16 } from './testing/rtu-wire-server.js';
import { useCleanups } from '../../test/helpers/cleanups.js';

const cleanups = useCleanups();

describe('inter-frame delay', () => {
  it('is 3.5 character times, and 1.75 ms above 19,200 baud (Modbus over Serial Line §2.5.1.1)', () => {
    const base = { dataBits: 8 as const, parity: 'none' as const, stopBits: 1 as const };
    expect(interFrameDelayMs({ ...base, baudRate: 9600 })).toBeCloseTo((3.5 * 10 * 1000) / 9600, 6); // 3.646 ms
    expect(interFrameDelayMs({ ...base, baudRate: 19200, parity: 'even' })).toBeCloseTo((3.5 * 11 * 1000) / 19200, 6);
    expect(interFrameDelayMs({ ...base, baudRate: 9600, stopBits: 2 })).toBeCloseTo((3.5 * 11 * 1000) / 9600, 6);
    expect(interFrameDelayMs({ ...base, baudRate: 38400 })).toBe(1.75);
  });

  it('the emulator CRC matches the spec example (Modbus over Serial Line, appendix B)', () => {
    // Read 2 registers from 0x006B on slave 0x11... frame "11 03 00 6B 00 03" has CRC 0x8776 (76 87 on the wire).
    expect(crc16(Uint8Array.from([0x11, 0x03, 0x00, 0x6b, 0x00, 0x03]))).toBe(0x8776);
  });
});

describe('a shared RTU line at 2,400 baud', () => {
  it('serialises three slaves without collisions, keeps the silence, and isolates a dead slave', async () => {
    const wire = new RtuWireServer(2400);
    wire.units.add(2);
    await wire.start();
    cleanups.push(() => wire.stop());
    wire.holding.set([11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 21], 0);
    const factory = createModbusDriver();
    const line = { transport: 'rtu-over-tcp', host: '127.0.0.1', port: wire.port, baudRate: 2400, retries: 0, registerGap: 0 };
    const make = (name: string, unitId: number, extra: Record<string, unknown> = {}): Harness => {
      const h = harness(factory, {
        name, driver: 'modbus', timeout: '2s',
        connection: { ...line, unitId, ...extra },
        tags: [{ name: 'a', address: 0 }, { name: 'b', address: 10 }],
      });
      cleanups.push(() => h.driver.stop());
      return h;
    };
    const one = make('one', 1);
    const two = make('two', 2);
    const dead = make('dead', 3, { requestTimeout: '200ms' });
    await Promise.all([one.driver.start(), two.driver.start(), dead.driver.start()]);
    for (let round = 0; round < 2; round++) {
      const [r1, r2, rd] = await Promise.allSettled([one.driver.poll(signal()), two.driver.poll(signal()), dead.driver.poll(signal())]);
      for (const r of [r1, r2]) {
        expect(r.status).toBe('fulfilled');
        if (r.status === 'fulfilled') expect(r.value.map((x) => x.value)).toEqual([11, 21]);
      }
      expect(rd).toMatchObject({ status: 'rejected', reason: { code: 'FG_ERR_MODBUS_TIMEOUT' } });
    }
    // 2 rounds × (2 + 2 requests from the live slaves + 1 from the dead one).
    expect(wire.stats.requests).toBe(10);
    expect(wire.stats.collisions).toBe(0);
    expect(wire.stats.crcErrors).toBe(0);
    expect(wire.stats.silenceViolations).toBe(0);
    expect(wire.stats.minGapMs).toBeGreaterThanOrEqual(wire.silenceMs - 0.5);
  });

  it('without the shared queue the same traffic would collide (the emulator can tell)', async () => {
    // Two factories = two separate lines to one wire: exactly what sharing prevents.
    const wire = new RtuWireServer(2400);
    wire.units.add(2);
    await wire.start();
    cleanups.push(() => wire.stop());
    const line = { transport: 'rtu-over-tcp', host: '127.0.0.1', port: wire.port, baudRate: 2400 };
    const hs = [1, 2].map((unitId) => {
      const h = harness(createModbusDriver(), { name: `u${unitId}`, driver: 'modbus', connection: { ...line, unitId }, tags: [{ name: 'a', address: 0 }] });
      cleanups.push(() => h.driver.stop());
      return h;
    });
    await Promise.all(hs.map((h) => h.driver.start()));
    await Promise.all(hs.map((h) => h.driver.poll(signal())));
    expect(wire.stats.collisions).toBeGreaterThan(0);
  });

  it('a damaged CRC is retried; damage on every attempt fails the poll as a CRC error', async () => {
    const wire = new RtuWireServer(19200);
    await wire.start();
    cleanups.push(() => wire.stop());
    wire.holding[0] = 99;
    const h = harness(createModbusDriver(), {
      name: 'noisy', driver: 'modbus', timeout: '1s',
      connection: { transport: 'rtu-over-tcp', host: '127.0.0.1', port: wire.port, baudRate: 19200, unitId: 1, retries: 1, requestTimeout: '200ms' },
      tags: [{ name: 'a', address: 0 }],
    });
    cleanups.push(() => h.driver.stop());
    await h.driver.start();
    wire.corruptNext = 1;
    expect((await h.driver.poll(signal()))[0]).toMatchObject({ value: 99, quality: 'GOOD' });
    wire.corruptNext = 2;
    await expect(h.driver.poll(signal())).rejects.toMatchObject({ code: 'FG_ERR_MODBUS_CRC' });
    expect(h.metrics.render()).toMatch(/fieldgate_modbus_errors_total\{device="noisy",kind="crc"\} 3/);
    expect((await h.driver.poll(signal()))[0]).toMatchObject({ value: 99, quality: 'GOOD' });
  });
});
