// Poll groups (issue 20): a fast pressure and a slow energy total on one PLC, one device. Tags
// with the same pollInterval are planned and read together; each group keeps its own pace.
// Real modbus-serial TCP server on loopback (it records every read), the real runtime.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/observe/logger.js';
import { MetricsRegistry } from '../../src/observe/metrics.js';
import { DriverRegistry } from '../../src/runtime/registry.js';
import { Runtime } from '../../src/runtime/runtime.js';
import type { TagUpdate } from '../../src/runtime/types.js';
import { createModbusDriver } from './index.js';
import { parseDevice } from './testing/harness.js';
import { TestModbusServer } from './testing/tcp-server.js';
import { useCleanups } from '../../test/helpers/cleanups.js';

const cleanups = useCleanups();

describe('poll groups (issue 20)', () => {
  it('reads each group at its own interval, the group in one request, as one device', async () => {
    const server = await TestModbusServer.started(cleanups);
    const unit = server.unit(1);
    unit.holding[0] = 41;
    unit.holding[100] = 0x0001;
    unit.holding[101] = 0x86a0; // uint32 100000
    unit.holding[102] = 7;
    const factory = createModbusDriver();
    const device = parseDevice(factory, {
      name: 'plc', driver: 'modbus', pollInterval: '1s', timeout: '500ms',
      connection: { host: '127.0.0.1', port: server.port, unitId: 1 },
      tags: [
        { name: 'pressure', address: 0, type: 'int16', pollInterval: '100ms' },
        { name: 'energy', address: 100, type: 'uint32' },
        { name: 'starts', address: 102, type: 'uint16' },
      ],
    });
    const runtime = new Runtime({ devices: [device], drivers: new DriverRegistry([factory]), logger: silentLogger(), metrics: new MetricsRegistry() });
    const updates: TagUpdate[] = [];
    runtime.onUpdates((u) => updates.push(...u));
    runtime.start();
    cleanups.push(() => runtime.stop());
    await new Promise((r) => setTimeout(r, 1600));
    unit.holding[0] = 42;
    await new Promise((r) => setTimeout(r, 300));

    const reads = server.reads.filter(([u, table]) => u === 1 && table === 'holding');
    const fast = reads.filter(([, , address]) => address === 0);
    const slow = reads.filter(([, , address]) => address === 100);
    // 1.9 s: about 19 fast polls and 2 slow ones; generous bounds for a loaded CI box.
    expect(fast.length).toBeGreaterThanOrEqual(8);
    expect(slow.length).toBeGreaterThanOrEqual(1);
    expect(slow.length).toBeLessThanOrEqual(3);
    // The slow group is one request over 100..102; the fast group never reads it.
    for (const r of slow) expect(r).toEqual([1, 'holding', 100, 3]);
    for (const r of fast) expect(r).toEqual([1, 'holding', 0, 1]);
    expect(reads.length).toBe(fast.length + slow.length);

    // One device, every tag, values from both groups.
    const snap = runtime.devices();
    expect(snap).toHaveLength(1);
    expect(snap[0]?.tags.map((t) => [t.name, t.value, t.quality])).toEqual([
      ['pressure', 42, 'GOOD'], ['energy', 100000, 'GOOD'], ['starts', 7, 'GOOD'],
    ]);
    expect(updates.some((u) => u.tag === 'pressure' && u.value === 42)).toBe(true);
  });
});
