// Issue 19, writes: "Sparkplug Int8/Int16 command values wrap (70000 written as 4464) while the
// JSON path refuses them; a tag's range is not enforced (1e308 for 0-100); 1.5 becomes 2 on
// int16; true becomes 1; a 900 KB string is accepted." Every path ends in Runtime.write, so it
// is checked there; the Sparkplug decoding refuses a value that only fits by wrapping.
import { describe, expect, it } from 'vitest';
import { builtinDrivers } from '../drivers/all.js';
import { parseConfigText } from '../src/config/load.js';
import { isFieldgateError } from '../src/errors.js';
import { silentLogger } from '../src/observe/logger.js';
import { MetricsRegistry } from '../src/observe/metrics.js';
import { ManualClock } from '../src/shared/clock.js';
import { DriverRegistry } from '../src/runtime/registry.js';
import { Runtime } from '../src/runtime/runtime.js';
import { parseCommand } from '../src/sparkplug/commands.js';
import { DataType, type DataTypeCode } from '../src/sparkplug/datatypes.js';
import { MetricIndex } from '../src/sparkplug/metric-index.js';
import { NODE_METRICS } from '../src/sparkplug/node-metrics.js';
import { encodePayload } from '../src/sparkplug/payload.js';

const DEVICES = `  - name: pump
    driver: simulator
    pollInterval: 1s
    tags:
      - { name: i16, type: int16, writable: true, signal: { kind: constant, value: 1 } }
      - { name: i8, type: int8, writable: true, signal: { kind: constant, value: 1 } }
      - { name: pct, type: float64, writable: true, range: { min: 0, max: 100 }, signal: { kind: constant, value: 1 } }
      - { name: on, type: bool, writable: true, signal: { kind: constant, value: 1 } }
      - { name: label, type: string, writable: true, signal: { kind: states, values: [a] } }
`;

async function runtime() {
  const cfg = parseConfigText(`version: 1\nsite: { group: g, node: n }\ndevices:\n${DEVICES}`, 'test.yaml', builtinDrivers);
  const clock = new ManualClock();
  const rt = new Runtime({ devices: cfg.devices, drivers: new DriverRegistry(builtinDrivers), logger: silentLogger(), metrics: new MetricsRegistry(), clock });
  rt.start();
  await clock.advance(10);
  return { rt, cfg, clock };
}

const outcome = async (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (isFieldgateError(e) ? `${e.code}: ${e.message}` : String(e)));

describe('write validation on every path', () => {
  it('refuses what does not fit the tag: width, whole numbers, range, booleans, string length', async () => {
    const { rt, clock } = await runtime();
    expect(await outcome(rt.write('pump', 'i16', 70000))).toMatch(/^FG_ERR_WRITE_REJECTED: .*int16/);
    expect(await outcome(rt.write('pump', 'i16', 1.5))).toMatch(/^FG_ERR_WRITE_REJECTED: .*whole number/);
    expect(await outcome(rt.write('pump', 'i16', true))).toMatch(/^FG_ERR_WRITE_REJECTED: .*boolean/);
    expect(await outcome(rt.write('pump', 'pct', 1e308))).toMatch(/^FG_ERR_WRITE_REJECTED: .*range 0\.\.100/);
    expect(await outcome(rt.write('pump', 'pct', -0.5))).toMatch(/^FG_ERR_WRITE_REJECTED: .*range/);
    expect(await outcome(rt.write('pump', 'label', 'x'.repeat(900_000)))).toMatch(/^FG_ERR_WRITE_REJECTED: .*characters/);
    // What fits still goes through.
    expect(await outcome(rt.write('pump', 'i16', -32768))).toBe('ok');
    expect(await outcome(rt.write('pump', 'pct', 100))).toBe('ok');
    expect(await outcome(rt.write('pump', 'on', true))).toBe('ok');
    expect(await outcome(rt.write('pump', 'label', 'short'))).toBe('ok');
    const stopping = rt.stop();
    await clock.advance(10);
    await stopping;
  });

  it('a Sparkplug Int16/Int8 command value that only fits by wrapping is refused, negatives still pass', async () => {
    const { cfg } = await runtime();
    const index = new MetricIndex(NODE_METRICS, cfg.devices);
    const cmd = (name: string, type: DataTypeCode, value: number) => Buffer.from(encodePayload({ metrics: [{ name, type, value }] }));
    expect(parseCommand(cmd('i16', DataType.Int16, 70000), 'pump', index)[0]).toMatchObject({ kind: 'refused', reason: expect.stringContaining('Int16') });
    expect(parseCommand(cmd('i8', DataType.Int8, 300), 'pump', index)[0]).toMatchObject({ kind: 'refused', reason: expect.stringContaining('Int8') });
    expect(parseCommand(cmd('i16', DataType.Int16, -2), 'pump', index)[0]).toEqual({ kind: 'write', device: 'pump', metric: 'i16', value: -2 });
  });
});
