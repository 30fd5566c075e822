// Issue 20, "why is it bad": each tag that is not GOOD carries its reason (the device's
// exception, the range it left) and its last good value with its age into /status.json's
// model; a device silent from its first poll names the setting to check. Real modbus-serial
// TCP server on loopback, the real runtime.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/observe/logger.js';
import { MetricsRegistry } from '../../src/observe/metrics.js';
import { takeSnapshot, type StatusSnapshot } from '../../src/observe/status-model.js';
import { DriverRegistry } from '../../src/runtime/registry.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { until } from '../../test/helpers/until.js';
import { createModbusDriver } from './index.js';
import { parseDevice } from './testing/harness.js';
import { TestModbusServer } from './testing/tcp-server.js';
import { useCleanups } from '../../test/helpers/cleanups.js';
import { freePort } from '../../test/helpers/ports.js';

const cleanups = useCleanups();

function snapshotOf(runtime: Runtime): StatusSnapshot {
  return takeSnapshot({
    site: { group: 'g', node: 'n', version: 't', startedAt: 0 },
    now: () => Date.now(),
    devices: () => runtime.devices(),
    units: new Map(),
    upstream: () => undefined,
    broker: () => undefined,
  });
}

const tagOf = (s: StatusSnapshot, device: string, tag: string) => s.devices.find((d) => d.name === device)?.tags.find((t) => t.name === tag);

describe('why a tag is bad (issue 20)', () => {
  it('names the exception, the range, the setting to check, and keeps the last good value with its age', async () => {
    const server = await TestModbusServer.started(cleanups);
    const unit = server.unit(1);
    unit.holding[0] = 539;
    unit.holding[1] = 9999; // far outside 0..100
    unit.behaviour.illegal = { holding: [40] };
    const deadUnit = server.unit(7);
    deadUnit.behaviour.silent = true;
    const factory = createModbusDriver();
    const common = { driver: 'modbus', pollInterval: '100ms', timeout: '400ms', offlineAfter: 2, backoff: { initial: '200ms', max: '400ms' } };
    const nobody = await freePort(); // released at once: nothing listens there
    const devices = [
      parseDevice(factory, {
        ...common, name: 'plc',
        connection: { host: '127.0.0.1', port: server.port, unitId: 1, retries: 0 },
        tags: [
          { name: 'level', address: 0, type: 'int16', scale: 0.1, decimals: 1, range: { min: 0, max: 100 } },
          { name: 'temp', address: 1, type: 'int16', range: { min: 0, max: 100 } },
          { name: 'missing', address: 40, type: 'uint16' },
        ],
      }),
      parseDevice(factory, {
        ...common, name: 'wrong-unit',
        connection: { host: '127.0.0.1', port: server.port, unitId: 7, retries: 0 },
        tags: [{ name: 'x', address: 0, type: 'uint16' }],
      }),
      parseDevice(factory, {
        ...common, name: 'wrong-port',
        connection: { host: '127.0.0.1', port: nobody, unitId: 1, retries: 0 },
        tags: [{ name: 'y', address: 0, type: 'uint16' }],
      }),
    ];
    const runtime = new Runtime({ devices, drivers: new DriverRegistry([factory]), logger: silentLogger(), metrics: new MetricsRegistry() });
    runtime.start();
    cleanups.push(() => runtime.stop());

    await until(() => tagOf(snapshotOf(runtime), 'plc', 'level')?.quality === 'GOOD' && tagOf(snapshotOf(runtime), 'plc', 'missing')?.quality === 'BAD', 5000, 'plc polled');
    let s = snapshotOf(runtime);
    expect(tagOf(s, 'plc', 'level')).toMatchObject({ quality: 'GOOD', value: 53.9 });
    expect(tagOf(s, 'plc', 'level')?.reason).toBeUndefined();
    expect(tagOf(s, 'plc', 'missing')?.reason).toMatch(/exception 2.*Illegal data address/i);
    expect(tagOf(s, 'plc', 'temp')).toMatchObject({ quality: 'UNCERTAIN' });
    expect(tagOf(s, 'plc', 'temp')?.reason).toContain('out of range 0..100');

    await until(() => /check unitId \(7\)/.test(snapshotOf(runtime).devices.find((d) => d.name === 'wrong-unit')?.lastError ?? ''), 5000, 'unit hint');
    await until(() => /check port/.test(tagOf(snapshotOf(runtime), 'wrong-port', 'y')?.reason ?? ''), 5000, 'port hint');
    s = snapshotOf(runtime);
    expect(tagOf(s, 'wrong-unit', 'x')?.reason).toMatch(/check unitId \(7\).*accepted the connection/);
    expect(s.devices.find((d) => d.name === 'wrong-port')?.lastError).toMatch(/ECONNREFUSED.*check port \(\d+\)/);

    // The PLC stops answering: the tag turns BAD and keeps what it last read, and when.
    const goodAt = Date.now();
    await server.stop();
    await until(() => tagOf(snapshotOf(runtime), 'plc', 'level')?.quality === 'BAD', 5000, 'plc BAD');
    await new Promise((r) => setTimeout(r, 1100));
    s = snapshotOf(runtime);
    const level = tagOf(s, 'plc', 'level');
    expect(level?.reason).toBeTruthy();
    expect(level?.lastGood?.value).toBe(53.9);
    expect(level?.lastGood?.at).toBeLessThanOrEqual(goodAt);
    expect(level?.lastGood?.ageSeconds).toBeGreaterThanOrEqual(1);
  });
});
