// The modbus driver under the real runtime (device supervisor, scaling, quality, backoff):
// a device whose server dies goes offline and comes back, its neighbour never notices, and a
// write in engineering units lands in the register unscaled.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/observe/logger.js';
import { MetricsRegistry } from '../../src/observe/metrics.js';
import { DriverRegistry } from '../../src/runtime/registry.js';
import { Runtime } from '../../src/runtime/runtime.js';
import type { DeviceStateChange, TagUpdate } from '../../src/runtime/types.js';
import { createModbusDriver } from './index.js';
import { parseDevice } from './testing/harness.js';
import { TestModbusServer } from './testing/tcp-server.js';
import { useCleanups } from '../../test/helpers/cleanups.js';
import { untilValue } from '../../test/helpers/until.js';

const cleanups = useCleanups();

/** Resolve when `pred` holds for an event at index `from` or later; bounded. */
/** The first event from index `from` on that matches, within `ms`. */
const until = <T,>(events: T[], pred: (e: T) => boolean, from = 0, ms = 5000): Promise<T> => untilValue(() => events.slice(from).find(pred), ms, 'an event');

describe('modbus under the runtime', () => {
  it('offline after failed polls, online again after the server returns; the neighbour keeps polling', async () => {
    const press = new TestModbusServer();
    const meter = new TestModbusServer();
    await press.start();
    await meter.start();
    cleanups.push(() => meter.stop(), () => press.stop());
    press.unit(1).holding.set([0x4348, 0x0000], 0); // float32 200.0 (0x43480000), by hand
    meter.unit(1).input[0] = 1;
    const factory = createModbusDriver();
    const common = { driver: 'modbus', pollInterval: '100ms', timeout: '300ms', offlineAfter: 2, backoff: { initial: '100ms', max: '200ms' } };
    const devices = [
      parseDevice(factory, {
        ...common, name: 'press',
        connection: { host: '127.0.0.1', port: press.port, unitId: 1, retries: 0 },
        tags: [
          { name: 'pressure', address: 0, type: 'float32', scale: 0.1, unit: 'bar' },
          { name: 'setpoint', address: 10, type: 'int16', scale: 0.1, writable: true, readBack: true },
        ],
      }),
      parseDevice(factory, {
        ...common, name: 'meter',
        connection: { host: '127.0.0.1', port: meter.port, unitId: 1 },
        tags: [{ name: 'count', table: 'input', address: 0 }],
      }),
    ];
    const runtime = new Runtime({ devices, drivers: new DriverRegistry([factory]), logger: silentLogger(), metrics: new MetricsRegistry() });
    const updates: TagUpdate[] = [];
    const states: DeviceStateChange[] = [];
    runtime.onUpdates((u) => updates.push(...u));
    runtime.onDeviceState((c) => states.push(c));
    runtime.start();
    cleanups.push(() => runtime.stop());

    const first = await until(updates, (u) => u.device === 'press' && u.tag === 'pressure' && u.quality === 'GOOD');
    expect(first.value).toBeCloseTo(20.0, 6); // 200.0 * 0.1
    await until(states, (s) => s.device === 'press' && s.state === 'online');

    const [u0, s0] = [updates.length, states.length];
    await press.stop();
    const meterBefore = updates.filter((u) => u.device === 'meter').length;
    await until(updates, (u) => u.device === 'press' && u.tag === 'pressure' && u.quality === 'BAD', u0);
    const offline = await until(states, (s) => s.device === 'press' && s.state === 'offline', s0);
    expect(offline.error).toMatch(/FC3|connect|closed|timeout/i);
    // While the press is dead, the meter keeps reporting changes.
    for (let i = 2; i < 5; i++) {
      meter.unit(1).input[0] = i;
      await until(updates, (u) => u.device === 'meter' && u.value === i && u.quality === 'GOOD', u0);
    }
    expect(updates.filter((u) => u.device === 'meter').length).toBeGreaterThan(meterBefore);

    const [u1, s1] = [updates.length, states.length];
    press.unit(1).holding.set([0x4349, 0x0000], 0); // 201.0
    await press.start(); // same port
    await until(states, (s) => s.device === 'press' && s.state === 'online', s1);
    const back = await until(updates, (u) => u.device === 'press' && u.tag === 'pressure' && u.quality === 'GOOD', u1);
    expect(back.value).toBeCloseTo(20.1, 6);

    await runtime.write('press', 'setpoint', 12.5);
    expect(press.unit(1).holding[10]).toBe(125);

    await runtime.stop();
    // The server sees the sockets close a moment later: poll, bounded, rather than sleep.
    const closed = [0];
    await until(closed, () => press.connections + meter.connections === 0);
  });
});
