// Issue 12, the Sparkplug device lifecycle as a host sees it, with an independent peer: a
// socat pty with a Python instrument (poll and listen mode, a pulled cable, a failed first
// open). OPC UA: opcua-lifecycle.interop.test.ts. In every capture: no DATA for a device without a live DBIRTH, no DBIRTH of nulls, no
// DDATA that only repeats the DBIRTH before it.
import { describe, expect, it } from 'vitest';
import { instrumentMeter, PtyPair } from '../../drivers/serial/testing/pty-fixture.js';
import { until } from '../helpers/until.js';
import { birthValues, births, captureWorld, expectCleanLifecycle, useLifecycleScratch, type Captured } from './capture.js';

const { dir, cleanups } = useLifecycleScratch();

/**
 * The cable plugged in (port up, peer started) until DDATA, pulled until DDEATH, plugged back
 * until a second DBIRTH; returns what the host saw, a moment later.
 */
async function plugPullReplug(pty: PtyPair, world: Awaited<ReturnType<typeof captureWorld>>, peer: 'instrument' | 'scale', device: string): Promise<Captured[]> {
  await pty.up();
  await pty.peer(peer);
  await until(() => world.messages().some((m) => m.type === 'DDATA' && m.device === device), 15_000, 'DDATA');
  await pty.down();
  await until(() => world.messages().some((m) => m.type === 'DDEATH' && m.device === device), 10_000, 'DDEATH');
  await pty.up();
  await pty.peer(peer);
  await until(() => births(world.messages(), device).length >= 2, 15_000, 'a second DBIRTH');
  await new Promise((r) => setTimeout(r, 300));
  return world.messages();
}

describe('serial device lifecycle (socat pty, Python instrument)', () => {
  it('poll mode: the port appears late, then the cable is pulled and plugged back: births carry values', async () => {
    const pty = new PtyPair();
    cleanups.push(() => pty.close());
    const world = await captureWorld(
      instrumentMeter(pty.device, { pollInterval: '100ms', timeout: '500ms', offlineAfter: '2', backoff: '{ initial: 100ms, max: 300ms }' }, ['{ name: value, column: 0 }', '{ name: n, column: 2 }']),
    );
    cleanups.push(world.stop);
    await until(() => world.gateway.runtime.devices()[0]!.state === 'offline', 10_000, 'a failed first open');
    const ms = await plugPullReplug(pty, world, 'instrument', 'meter');
    expectCleanLifecycle(ms);
    for (const b of births(ms, 'meter')) expect(birthValues(b).get('value')?.value).toBeCloseTo(12.34, 5);
    // Every good polled reply is a counted frame (issue 12: request() never counted one).
    const ok = world.gateway.metrics.counter('fieldgate_serial_frames_total', '').get({ device: 'meter', result: 'ok' });
    const polls = world.gateway.metrics.counter('fieldgate_device_polls_total', '').get({ device: 'meter', result: 'ok' });
    expect(ok).toBeGreaterThan(0);
    expect(ok).toBeGreaterThanOrEqual(polls);
  }, 60_000);

  it('listen mode: a streaming scale after a failed first open and a pulled cable: births carry values', async () => {
    const pty = new PtyPair();
    cleanups.push(() => pty.close());
    const world = await captureWorld(`
  - name: scale
    driver: serial
    pollInterval: 1s
    timeout: 1s
    backoff: { initial: 100ms, max: 300ms }
    connection:
      path: ${pty.device}
      framing: { kind: delimiter, delimiter: "\\r\\n", maxLength: 64 }
      parse: { kind: regex, pattern: '^(?<status>ST|US),(?:GS|NT),(?<weight>[+-]\\s*[\\d.]+)\\s*kg$' }
    tags:
      - { name: weight, group: weight, unit: kg }
      - { name: stable, group: status, type: string }
`);
    cleanups.push(world.stop);
    await until(() => world.gateway.runtime.devices()[0]!.state === 'offline' || world.gateway.runtime.devices()[0]!.pollErrors > 0, 10_000, 'a failed first open');
    const ms = await plugPullReplug(pty, world, 'scale', 'scale');
    expectCleanLifecycle(ms);
    for (const b of births(ms, 'scale')) expect(birthValues(b).get('stable')?.value).toBe('ST');
  }, 60_000);
});
