// The runtime with the simulator driver: scheduling, isolation, offline/online, backoff and
// writes, end to end through the real config loader.
import { describe, expect, it } from 'vitest';
import { builtinDrivers } from '../drivers/all.js';
import { parseConfigText } from '../src/config/load.js';
import { isFieldgateError } from '../src/errors.js';
import { silentLogger } from '../src/observe/logger.js';
import { MetricsRegistry } from '../src/observe/metrics.js';
import { ManualClock, type Clock } from '../src/shared/clock.js';
import { DriverRegistry } from '../src/runtime/registry.js';
import { Runtime } from '../src/runtime/runtime.js';
import type { DeviceStateChange, TagUpdate } from '../src/runtime/types.js';
import { simulatedOutage } from './helpers/site-yaml.js';

function makeRuntime(devicesYaml: string, clock?: Clock) {
  const cfg = parseConfigText(`version: 1\nsite: { group: g, node: n }\ndevices:\n${devicesYaml}`, 'test.yaml', builtinDrivers);
  const metrics = new MetricsRegistry();
  const runtime = new Runtime({
    devices: cfg.devices,
    drivers: new DriverRegistry(builtinDrivers),
    logger: silentLogger(),
    metrics,
    ...(clock ? { clock } : {}),
    random: () => 0.5,
  });
  const updates: TagUpdate[] = [];
  const states: DeviceStateChange[] = [];
  runtime.onUpdates((u) => updates.push(...u));
  runtime.onDeviceState((c) => states.push(c));
  return { runtime, updates, states, metrics };
}

/** makeRuntime on a manual clock the test advances. */
function onManualClock(devicesYaml: string) {
  const clock = new ManualClock();
  return { ...makeRuntime(devicesYaml, clock), clock };
}

describe('runtime', () => {
  it('takes a silent device offline after offlineAfter polls, backs off, and brings it back', async () => {
    const { runtime, updates, states, metrics, clock } = onManualClock(
      simulatedOutage('tank', { pollInterval: '1s', timeout: '500ms', offlineAfter: '2', backoff: '{ initial: 1s, max: 4s }' }, { after: '5s', for: '10s' }, '{ name: level, signal: { kind: counter } }'),
    );
    runtime.start();
    await clock.advance(4_000);
    expect(states.map((s) => s.state)).toEqual(['starting', 'online']);
    expect(updates.filter((u) => u.tag === 'level').map((u) => u.value)).toEqual([0, 1, 2, 3, 4]);

    // Fault from t=5s: the poll at 5s times out at 5.5s (BAD), the one at 6s at 6.5s (offline).
    await clock.advance(1_600);
    const bad = updates.find((u) => u.quality === 'BAD');
    expect(bad).toMatchObject({ tag: 'level', value: null, reason: 'quality', gatewayTime: clock.now() - 100 });
    expect(states.at(-1)?.state).toBe('online');
    await clock.advance(1_000);
    expect(states.at(-1)).toMatchObject({ state: 'offline', error: expect.stringContaining('timed out after 500 ms') });
    expect(metrics.counter('fieldgate_device_polls_total', '').get({ device: 'tank', result: 'timeout' })).toBe(2);

    // Retries at +1s, +2s, +4s, +4s (max) with jitter 0.5 → no jitter; the fault ends at 15s.
    await clock.advance(11_000);
    expect(states.at(-1)?.state).toBe('online');
    const online = states.at(-1)!;
    const offlineAt = states.at(-2)!.at;
    expect(online.at - offlineAt).toBe(1_000 + 2_000 + 4_000 + 4_000);
    expect(metrics.counter('fieldgate_device_connect_attempts_total', '').get({ device: 'tank' })).toBe(5);
    // Values flow again, GOOD, and the counter continued on the device side.
    const after = updates.filter((u) => u.gatewayTime >= online.at);
    expect(after[0]).toMatchObject({ quality: 'GOOD', reason: 'quality' });

    const stopping = runtime.stop();
    await clock.advance(1_000);
    await stopping;
    expect(states.at(-1)?.state).toBe('stopped');
    expect(clock.timerCount).toBe(0);
  });

  it('a slow device never delays a fast one', async () => {
    const { runtime, updates } = makeRuntime(`  - name: slow
    driver: simulator
    pollInterval: 100ms
    timeout: 2s
    connection: { latency: 450ms }
    tags: [ { name: n, signal: { kind: counter } } ]
  - name: fast
    driver: simulator
    pollInterval: 50ms
    tags: [ { name: n, signal: { kind: counter } } ]
`);
    runtime.start();
    await new Promise((r) => setTimeout(r, 1_000));
    await runtime.stop();
    const fast = updates.filter((u) => u.device === 'fast').length;
    const slow = updates.filter((u) => u.device === 'slow').length;
    // 1 s at 50 ms is 20 slots; allow for timer latency on a loaded 2-core machine.
    expect(fast).toBeGreaterThanOrEqual(17);
    expect(slow).toBeLessThanOrEqual(3);
  });

  it('routes writes to writable tags, unscaled, and refuses the rest with a reason', async () => {
    const { runtime, updates, clock } = onManualClock(`  - name: pump
    driver: simulator
    pollInterval: 1s
    tags:
      - { name: setpoint, type: int16, scale: 0.1, writable: true, signal: { kind: constant, value: 500 } }
      - { name: flow, signal: { kind: constant, value: 1 } }
`);
    runtime.start();
    await clock.advance(10);
    expect(updates.find((u) => u.tag === 'setpoint')?.value).toBe(50);

    await runtime.write('pump', 'setpoint', 12.3);
    await clock.advance(1_000);
    expect(updates.filter((u) => u.tag === 'setpoint').at(-1)).toMatchObject({ value: 12.3, reason: 'change' });

    const code = async (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (isFieldgateError(e) ? e.code : String(e)));
    expect(await code(runtime.write('pump', 'flow', 2))).toBe('FG_ERR_WRITE_REJECTED');
    expect(await code(runtime.write('pump', 'nope', 2))).toBe('FG_ERR_WRITE_REJECTED');
    expect(await code(runtime.write('nope', 'setpoint', 2))).toBe('FG_ERR_WRITE_REJECTED');
    expect(await code(runtime.write('pump', 'setpoint', 5000))).toBe('FG_ERR_WRITE_REJECTED');
    expect(await code(runtime.write('pump', 'setpoint', 'high'))).toBe('FG_ERR_WRITE_REJECTED');

    const stopping = runtime.stop();
    await clock.advance(10);
    await stopping;
  });

  it('refuses writes to an offline device', async () => {
    const { runtime, states, clock } = onManualClock(simulatedOutage('pump', { timeout: '100ms', offlineAfter: '1' }, { after: '0s', for: '1h' }, '{ name: sp, writable: true }'));
    runtime.start();
    await clock.advance(200);
    expect(states.at(-1)?.state).toBe('offline');
    await expect(runtime.write('pump', 'sp', 1)).rejects.toMatchObject({ code: 'FG_ERR_DEVICE_OFFLINE' });
    const stopping = runtime.stop();
    await clock.advance(200);
    await stopping;
  });

  it('stop() cancels a poll in progress instead of waiting for its timeout', async () => {
    const { runtime, states, clock } = onManualClock(`  - { name: d, driver: simulator, timeout: 20s, connection: { latency: 10s }, tags: [ { name: t } ] }\n`);
    runtime.start();
    await clock.advance(100);
    let stopped = false;
    const stopping = runtime.stop().then(() => (stopped = true));
    await clock.advance(0);
    await stopping;
    expect(stopped).toBe(true);
    expect(clock.monotonic()).toBe(100);
    expect(states.at(-1)?.state).toBe('stopped');
    expect(clock.timerCount).toBe(0);
  });

  it('one throwing listener does not starve the others', async () => {
    const { runtime, updates, clock } = onManualClock(`  - { name: d, driver: simulator, tags: [ { name: t, signal: { kind: counter } } ] }\n`);
    runtime.onUpdates(() => {
      throw new Error('consumer bug');
    });
    const late: TagUpdate[] = [];
    runtime.onUpdates((u) => late.push(...u));
    runtime.start();
    await clock.advance(2_500);
    expect(updates).toHaveLength(3);
    expect(late).toHaveLength(3);
    const stopping = runtime.stop();
    await clock.advance(10);
    await stopping;
  });
});
