// Issue 12, containment: an exception in one device's read or decode path takes that device
// offline with an FG_ERR_ code and a log line; the process, the outbox, the upstream stream and
// the other devices go on. The faulty device is a driver with a bug (its poll resolves nothing,
// its factory throws), next to a healthy simulator, in a whole gateway publishing to aedes.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { builtinDrivers } from '../../drivers/all.js';
import { parseConfigText } from '../../src/config/load.js';
import { Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/observe/logger.js';
import { defineDriver, type DriverFactory } from '../../src/runtime/driver.js';
import type { Reading } from '../../src/runtime/types.js';
import { encodeContained } from '../../src/sparkplug/contained-encode.js';
import { buildData } from '../../src/sparkplug/data.js';
import { DataType, type DataTypeCode } from '../../src/sparkplug/datatypes.js';
import { AedesUpstream } from '../helpers/aedes-upstream.js';
import { until } from '../helpers/until.js';
import { siteYaml } from '../sparkplug/gateway-fixture.js';
import { decodeIndependently } from '../sparkplug/independent-decoder.js';
import { useCleanups } from '../helpers/cleanups.js';

const cleanups = useCleanups({ ignoreErrors: true });

/** A driver with a bug: after two good polls its poll resolves undefined instead of readings. */
const buggy = defineDriver<{ mode: 'no-readings' | 'create-throws' }, unknown>({ connectionSchema: z.strictObject({ mode: z.enum(['no-readings', 'create-throws']) }), tagShape: {} }, {
  type: 'buggy',
  description: 'test driver with a bug in its read path',
  capabilities: { poll: true, write: false, subscribe: false, browse: false },
  create: (ctx) => {
    if (ctx.device.connection.mode === 'create-throws') throw new TypeError('cannot read properties of undefined (reading "port")');
    let polls = 0;
    return {
      start: async () => undefined,
      stop: async () => undefined,
      poll: async () => {
        polls += 1;
        if (polls > 2) return undefined as unknown as Reading[];
        return ctx.device.tags.map((t) => ({ tag: t.name, value: polls, quality: 'GOOD' as const }));
      },
    };
  },
}) as DriverFactory;

describe('containment (issue 12)', () => {
  it('a device whose read path throws goes offline with FG_ERR_DEVICE_FAULT; the gateway and its neighbour go on', async () => {
    const upstream = await AedesUpstream.started(cleanups);
    const dir = mkdtempSync(join(tmpdir(), 'fg-contain-'));
    const drivers = [...builtinDrivers, buggy];
    const devices = `
  - name: pump
    driver: simulator
    pollInterval: 100ms
    tags: [ { name: count, type: uint32, signal: { kind: counter } } ]
  - name: flaky
    driver: buggy
    pollInterval: 100ms
    backoff: { initial: 100ms, max: 200ms }
    connection: { mode: no-readings }
    tags: [ { name: x, type: float64 } ]
  - name: broken
    driver: buggy
    backoff: { initial: 100ms, max: 200ms }
    connection: { mode: create-throws }
    tags: [ { name: y, type: float64 } ]
`;
    const config = parseConfigText(siteYaml({ url: upstream.url, dir, devices }), join(dir, 'site.yaml'), drivers);
    const logs: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const gw = new Gateway({ config, drivers, logger: createLogger({ level: 'warn', destination: sink }) });
    await gw.start();
    cleanups.push(() => gw.stop());

    await until(() => logs.some((l) => l.code === 'FG_ERR_DEVICE_FAULT' && l.device === 'flaky'), 10_000, 'the fault logged');
    expect(logs.some((l) => l.code === 'FG_ERR_DEVICE_FAULT' && l.device === 'broken')).toBe(true);
    const flaky = () => gw.runtime.devices().find((d) => d.name === 'flaky')!;
    await until(() => flaky().state === 'offline', 5000, 'flaky offline');
    expect(flaky().lastError).toMatch(/FG_ERR_DEVICE_FAULT/);
    // It reconnects (and faults again) while the neighbour keeps publishing through the outbox.
    const pumpData = () => upstream.received.filter((r) => r.topic.endsWith('/DDATA/edge-1/pump')).length;
    const before = pumpData();
    await until(() => pumpData() >= before + 5, 5000, 'the neighbour keeps publishing');
    await until(() => logs.filter((l) => l.code === 'FG_ERR_DEVICE_FAULT' && l.device === 'flaky').length >= 2, 5000, 'a reconnect, and the fault again');
    expect(gw.runtime.devices().find((d) => d.name === 'pump')!.state).toBe('online');
    expect(gw.runtime.devices().find((d) => d.name === 'broken')!.state).toBe('offline');
  });

  it('a metric that cannot be encoded goes out BAD and null; the rest of the message is intact', () => {
    const metrics = [
      { alias: 1n, type: DataType.Double as DataTypeCode, value: 1.5, quality: 'GOOD' as const, timestamp: 1, qualityChanged: false, historical: false },
      // The crash: a datatype the config never resolved.
      { alias: 2n, type: undefined as unknown as DataTypeCode, value: 7, quality: 'GOOD' as const, timestamp: 1, qualityChanged: false, historical: false },
    ];
    const bad: bigint[] = [];
    const bytes = encodeContained(metrics, (ms) => buildData({ timestamp: 1, seq: 3, metrics: ms }), (m) => bad.push(m.alias));
    const p = decodeIndependently(bytes);
    expect(bad).toEqual([2n]);
    expect(p.metrics?.[0]).toMatchObject({ doubleValue: 1.5 });
    expect(p.metrics?.[1]).toMatchObject({ isNull: true });
  });
});
