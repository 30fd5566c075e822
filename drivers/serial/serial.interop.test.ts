// Interop suite (needs Debian socat): the serial driver against real pseudo-terminals (socat) and peers in Debian's Python playing
// a streaming scale, a request/response instrument and an NMEA GPS.
import { describe, expect, it } from 'vitest';
import { builtinDrivers } from '../all.js';
import { parseConfigText } from '../../src/config/load.js';
import { silentLogger } from '../../src/observe/logger.js';
import { MetricsRegistry } from '../../src/observe/metrics.js';
import type { TagUpdate } from '../../src/runtime/types.js';
import { instrumentMeter, ptyPairUp } from './testing/pty-fixture.js';
import { useCleanups } from '../../test/helpers/cleanups.js';
import { startRuntime } from '../../test/helpers/runtime-harness.js';
import { serialDriver } from './index.js';
import { ManualClock } from '../../src/shared/clock.js';
import type { DeviceConfig } from '../../src/config/sections/devices.js';

const cleanups = useCleanups();

function site(device: string): string {
  return `version: 1\nsite: { group: g, node: n }\nobserve: { http: { enabled: false } }\ndevices:\n${device}`;
}

function run(yaml: string) {
  const t = startRuntime(
    yaml,
    ({ states, metrics, updates }) =>
      `states: ${states.map((s) => s.state).join(',')}; metrics: ${metrics.render().split('\n').filter((l) => l.startsWith('fieldgate_serial')).join(' ')}; last: ${JSON.stringify(updates.slice(-4), (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`,
  );
  cleanups.push(() => t.rt.stop());
  const frames = (result: string) => t.metrics.counter('fieldgate_serial_frames_total', '').get({ device: t.devices[0]?.name ?? '', result });
  return { ...t, frames };
}

/** A streaming scale (peer.py `scale`) read in listen mode, parsed by regex groups. */
const streamingScale = (path: string): string => `  - name: scale
    driver: serial
    connection:
      path: ${path}
      baudRate: 9600
      framing: { kind: delimiter, delimiter: "\\r\\n", maxLength: 64 }
      parse: { kind: regex, pattern: '^(?<status>ST|US),GS,(?<weight>[+-]\\s*[\\d.]+)\\s*kg$' }
    tags:
      - { name: weight, group: weight, unit: kg }
      - { name: status, group: status, type: string }
`;

/** An NMEA GPS (peer.py `gps`): checksummed sentences, CSV columns per sentence type. */
const nmeaGps = (path: string): string => `  - name: gps
    driver: serial
    connection:
      path: ${path}
      framing: { kind: markers, start: "$", end: "\\r\\n" }
      checksum: nmea
      accept: '^GP(GGA|RMC),'
      parse: { kind: csv }
    tags:
      - { name: lat, column: 2, format: nmea-coordinate, when: '^GPGGA' }
      - { name: lon, column: 4, format: nmea-coordinate, when: '^GPGGA' }
      - { name: altitude, column: 9, when: '^GPGGA', unit: m }
      - { name: speed, column: 7, when: '^GPRMC', unit: kn }
`;

const good = (us: TagUpdate[], tag: string) => us.filter((u) => u.tag === tag && u.quality === 'GOOD');

describe('serial driver over pseudo-terminals', () => {
  it('listen mode: a streaming scale, parsed by regex groups, survives babble and binary junk', async () => {
    const pair = await ptyPairUp(cleanups);
    const t = run(streamingScale(pair.device));
    // Announced at its first frames or after its timeout (2 s) without any (issue 12).
    await t.until(() => t.states.at(-1)?.state === 'online', 6000, 'online');
    await pair.peer('scale', 'babble');
    await t.until(() => good(t.updates, 'weight').length >= 5, 5000, 'five weights');
    const w = good(t.updates, 'weight').map((u) => u.value as number);
    expect(w[0]).toBeCloseTo(12.5, 2);
    // Streaming frames: each new weight is 0.01 kg more than the one before.
    for (let i = 1; i < w.length; i++) expect((w[i] ?? 0) - (w[i - 1] ?? 0)).toBeCloseTo(0.01, 5);
    expect(t.updates.find((u) => u.tag === 'status')?.value).toBe('ST');
    expect(t.frames('overlong')).toBe(1);
    expect(t.frames('parse_error')).toBe(1); // "\x00\xff\x07junk"
    expect(t.states.map((s) => s.state)).toEqual(['starting', 'online']);
  });

  it('listen mode: NMEA GPS with XOR checksums, CSV columns per sentence type; corrupted sentences are counted, never published', async () => {
    const pair = await ptyPairUp(cleanups);
    const t = run(nmeaGps(pair.device));
    await t.until(() => t.states.at(-1)?.state === 'online', 6000, 'online');
    await pair.peer('gps');
    await t.until(() => t.frames('checksum_error') >= 2 && good(t.updates, 'speed').length >= 5, 5000, 'GGA, RMC and corrupted sentences');
    expect(good(t.updates, 'lat')[0]?.value).toBeCloseTo(48.1173, 4);
    expect(good(t.updates, 'lon')[0]?.value).toBeCloseTo(11.516667, 5);
    // The corrupted GGA sentences carry altitude 545.7: none of them may get through.
    expect(t.updates.filter((u) => u.tag === 'altitude').map((u) => u.value)).toEqual([545.4]);
    expect(t.frames('ok')).toBeGreaterThan(5);
  });

  it('poll mode: request/response instrument read by CSV; a muted instrument times out, goes offline and comes back', async () => {
    const pair = await ptyPairUp(cleanups);
    const peer = await pair.peer('instrument');
    const t = run(
      instrumentMeter(pair.device, { pollInterval: '50ms', timeout: '300ms', offlineAfter: '2', backoff: '{ initial: 50ms, max: 100ms }' }, [
        '{ name: voltage, column: 0, unit: V }',
        '{ name: current, column: 1, unit: A }',
        '{ name: count, type: uint32, column: 2 }',
      ]),
    );
    await t.until(() => good(t.updates, 'count').length >= 3, 5000, 'three replies');
    expect(good(t.updates, 'voltage')[0]?.value).toBe(12.34);
    expect(good(t.updates, 'current')[0]?.value).toBe(0.25);
    // Each poll got the reply to its own request, never a stale one: the counter only goes up.
    const counts = good(t.updates, 'count').map((u) => u.value as number);
    counts.slice(1).forEach((c, i) => expect(c).toBeGreaterThan(counts[i] ?? 0));
    peer.kill('SIGUSR1');
    await t.until(() => t.states.at(-1)?.state === 'offline', 3000, 'offline after silent polls');
    expect(t.states.at(-1)?.error).toMatch(/timed out|did not answer|timeout/i);
    peer.kill('SIGUSR1');
    const before = good(t.updates, 'count').length;
    await t.until(() => t.states.at(-1)?.state === 'online' && good(t.updates, 'count').length > before, 5000, 'back online');
  });

  it('listen mode: port loss takes the device offline, the port is reopened with backoff and data flows again', async () => {
    const pair = await ptyPairUp(cleanups);
    await pair.peer('scale');
    const t = run(`  - name: scale
    driver: serial
    backoff: { initial: 50ms, max: 200ms }
    connection:
      path: ${pair.device}
      linkCheck: 100ms
      parse: { kind: regex, pattern: 'GS,(?<weight>[+-]\\s*[\\d.]+)' }
    tags:
      - { name: weight, group: weight }
`);
    await t.until(() => good(t.updates, 'weight').length >= 2, 5000, 'weights');
    await pair.down();
    await t.until(() => t.states.at(-1)?.state === 'offline', 3000, 'offline after port loss');
    expect(t.states.at(-1)?.error).toMatch(/lost/);
    expect(t.updates.at(-1)?.quality).toBe('BAD');
    // Several reopen attempts fail while the cable is out.
    await new Promise((r) => setTimeout(r, 400));
    await pair.up();
    await pair.peer('scale');
    const before = t.updates.length;
    await t.until(() => t.states.at(-1)?.state === 'online' && good(t.updates.slice(before), 'weight').length >= 2, 5000, 'online again');
  });

  it('poll mode: port loss makes polls fail; the supervisor reconnects when the port is back', async () => {
    const pair = await ptyPairUp(cleanups);
    await pair.peer('instrument');
    const t = run(`  - name: meter
    driver: serial
    pollInterval: 50ms
    timeout: 200ms
    offlineAfter: 1
    backoff: { initial: 50ms, max: 100ms }
    connection: { path: ${pair.device}, mode: poll, request: "MEAS?\\r\\n", parse: { kind: csv } }
    tags:
      - { name: voltage, column: 0 }
`);
    await t.until(() => t.states.at(-1)?.state === 'online', 5000, 'online');
    await pair.down();
    await t.until(() => t.states.at(-1)?.state === 'offline', 3000, 'offline');
    await pair.up();
    await pair.peer('instrument');
    await t.until(() => t.states.at(-1)?.state === 'online', 5000, 'online again');
  });

  it('a port that does not exist: start fails with the path in the error and the device goes offline', async () => {
    const t = run(`  - name: ghost
    driver: serial
    backoff: { initial: 50ms, max: 50ms }
    connection: { path: /tmp/fieldgate-no-such-port, parse: { kind: csv } }
    tags:
      - { name: x, column: 0 }
`);
    await t.until(() => t.states.at(-1)?.state === 'offline', 3000, 'offline');
    expect(t.states.at(-1)?.error).toContain('cannot open /tmp/fieldgate-no-such-port');
  });
});

describe('serial driver cleanup', () => {
  function device(path: string, clock: ManualClock, links: boolean[]) {
    const cfg = parseConfigText(
      site(`  - name: d
    driver: serial
    backoff: { initial: 100ms, max: 100ms }
    connection: { path: ${path}, linkCheck: 50ms, framing: { kind: delimiter, delimiter: "\\n", interByteTimeout: 100ms }, parse: { kind: csv } }
    tags:
      - { name: x, column: 0 }
`),
      'test.yaml',
      builtinDrivers,
    );
    return serialDriver.create({
      device: cfg.devices[0] as DeviceConfig,
      logger: silentLogger(),
      metrics: new MetricsRegistry(),
      clock,
      publish: () => undefined,
      reportLink: (up) => links.push(up),
    });
  }

  it('stop() after the port was lost and a reopen is pending leaves no timer and no open port', async () => {
    const pair = await ptyPairUp(cleanups);
    const clock = new ManualClock();
    const links: boolean[] = [];
    const d = device(pair.device, clock, links);
    await d.start();
    expect(clock.timerCount).toBe(1); // the link check
    await pair.down();
    // Whichever notices first (the hang-up or the link check), the driver reports the loss and
    // schedules a reopen on the injected clock.
    for (let i = 0; i < 100 && links.length === 0; i++) await clock.advance(50);
    expect(links).toEqual([false]);
    expect(clock.timerCount).toBe(1); // the reopen
    await d.stop();
    expect(clock.timerCount).toBe(0);
    await clock.advance(1000);
    expect(links).toEqual([false]);
  });

  it('stop() with a partial frame buffered cancels its inter-byte timer and closes the port', async () => {
    const pair = await ptyPairUp(cleanups);
    const clock = new ManualClock();
    const d = device(pair.device, clock, []);
    await d.start();
    const { openSync, writeSync, closeSync } = await import('node:fs');
    const fd = openSync(pair.peerPath, 'w');
    writeSync(fd, 'partial');
    closeSync(fd);
    for (let i = 0; i < 100 && clock.timerCount < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(clock.timerCount).toBe(2); // link check + inter-byte timeout
    await d.stop();
    expect(clock.timerCount).toBe(0);
    // The gateway end is free again: another process could open it now.
    const again = device(pair.device, clock, []);
    await again.start();
    await again.stop();
  });
});
