// stop() must leave nothing behind. In a file of its own so that no other test's timers or
// sockets blur the before/after count of the process's active resources.
import { describe, expect, it } from 'vitest';
import { createModbusDriver } from './index.js';
import { harness, signal } from './testing/harness.js';
import { TestModbusServer } from './testing/tcp-server.js';
import { until } from '../../test/helpers/until.js';

describe('stop', () => {
  it('leaves no socket and no timer behind, even with a request in flight', async () => {
    const baseline = process.getActiveResourcesInfo();
    const count = (list: string[], kind: string): number => list.filter((k) => k === kind).length;
    const s = new TestModbusServer();
    await s.start();
    s.unit(1).behaviour.silent = true;
    const h = harness(createModbusDriver(), {
      name: 'dev', driver: 'modbus', timeout: '10s',
      connection: { host: '127.0.0.1', port: s.port, requestTimeout: '5s' },
      tags: [{ name: 'a', address: 0 }],
    });
    await h.driver.start();
    const inFlight = h.driver.poll(signal(10_000)).catch((e: unknown) => e);
    await until(() => s.reads.length === 1, 2000);
    const t0 = performance.now();
    await h.driver.stop();
    // The silent request is settled at once instead of after its 5 s timeout.
    expect(await inFlight).toMatchObject({ code: 'FG_ERR_MODBUS_CONNECTION' });
    expect(performance.now() - t0).toBeLessThan(500);
    await s.stop();
    await until(() => count(process.getActiveResourcesInfo(), 'TCPSocketWrap') <= count(baseline, 'TCPSocketWrap'), 2000);
    const after = process.getActiveResourcesInfo();
    expect(count(after, 'TCPServerWrap')).toBe(count(baseline, 'TCPServerWrap'));
    expect(count(after, 'Timeout')).toBeLessThanOrEqual(count(baseline, 'Timeout'));
  });
});
