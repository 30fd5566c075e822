import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { builtinDrivers } from '../all.js';
import { loadConfigFile, parseConfigText } from '../../src/config/load.js';
import { silentLogger } from '../../src/observe/logger.js';
import { MetricsRegistry } from '../../src/observe/metrics.js';
import { ManualClock } from '../../src/shared/clock.js';
import { DriverRegistry } from '../../src/runtime/registry.js';
import { Runtime } from '../../src/runtime/runtime.js';
import type { TagUpdate, TagValue } from '../../src/runtime/types.js';
import { SignalGenerator, seededRandom } from './signals.js';
import { runTestcases } from '../../test/helpers/testcases.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const CASES = join(HERE, 'testcases');

function fmt(v: TagValue | null): string {
  if (typeof v === 'number') {
    const r = Math.round(v * 1e6) / 1e6;
    return String(Object.is(r, -0) ? 0 : r);
  }
  return v === null ? 'null' : String(v);
}

interface Action {
  at: number;
  device: string;
  tag: string;
  value: number;
}

/** Telegraf-style regression cases: config.yaml plus expected.out (updates) or init.err. */
runTestcases('simulator testcases', CASES, {
  run: async (dir) => {
    const cfg = loadConfigFile(join(dir, 'config.yaml'), builtinDrivers);
    const clock = new ManualClock();
    const t0 = clock.now();
    const runtime = new Runtime({ devices: cfg.devices, drivers: new DriverRegistry(builtinDrivers), logger: silentLogger(), metrics: new MetricsRegistry(), clock });
    const got: string[] = [];
    runtime.onUpdates((us: readonly TagUpdate[]) => got.push(...us.map((u) => `t=${u.gatewayTime - t0} ${u.device}/${u.tag}=${fmt(u.value)} ${u.quality}`)));
    const actionsFile = join(dir, 'actions.json');
    const actions = existsSync(actionsFile) ? (JSON.parse(readFileSync(actionsFile, 'utf8')) as Action[]) : [];
    runtime.start();
    let now = 0;
    for (const a of actions) {
      await clock.advance(a.at - now);
      now = a.at;
      await runtime.write(a.device, a.tag, a.value);
    }
    await clock.advance(4_000 - now + 1);
    const stopping = runtime.stop();
    await clock.advance(1_000);
    await stopping;
    const expected = readFileSync(join(dir, 'expected.out'), 'utf8').trim().split('\n');
    expect(got).toEqual(expected);
  },
});

describe('simulator signals', () => {
  it('random walks are deterministic per seed, bounded, and differ between seeds', () => {
    const spec = { kind: 'random-walk' as const, start: 0, step: 5, min: -10, max: 10 };
    const run = (seed: number) => {
      const g = new SignalGenerator(spec, seed);
      return Array.from({ length: 200 }, (_, i) => g.next(i * 1000) as number);
    };
    const a = run(1);
    expect(run(1)).toEqual(a);
    expect(run(2)).not.toEqual(a);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(-10);
    expect(Math.max(...a)).toBeLessThanOrEqual(10);
    // Steps are at most `step` apart and the walk actually moves.
    for (let i = 1; i < a.length; i++) expect(Math.abs((a[i] ?? 0) - (a[i - 1] ?? 0))).toBeLessThanOrEqual(5);
    expect(new Set(a).size).toBeGreaterThan(50);
  });

  it('the seeded generator is uniform enough to look like noise', () => {
    const r = seededRandom(99);
    const xs = Array.from({ length: 10_000 }, () => r());
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.48);
    expect(mean).toBeLessThan(0.52);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
  });

  it('coerces signal values to the tag type (int64 as bigint, ints rounded)', async () => {
    const cfg = parseConfigText(
      `version: 1
site: { group: g, node: n }
devices:
  - name: sim
    driver: simulator
    tags:
      - { name: big, type: int64, signal: { kind: constant, value: 12.6 } }
      - { name: small, type: int8, signal: { kind: constant, value: -3.4 } }
      - { name: flag, type: bool, signal: { kind: constant, value: 1 } }
`,
      'x.yaml',
      builtinDrivers,
    );
    const clock = new ManualClock();
    const runtime = new Runtime({ devices: cfg.devices, drivers: new DriverRegistry(builtinDrivers), logger: silentLogger(), metrics: new MetricsRegistry(), clock });
    const got = new Map<string, TagValue | null>();
    runtime.onUpdates((us) => us.forEach((u) => got.set(u.tag, u.value)));
    runtime.start();
    await clock.advance(10);
    expect(got.get('big')).toBe(13n);
    expect(got.get('small')).toBe(-3);
    expect(got.get('flag')).toBe(true);
    const stopping = runtime.stop();
    await clock.advance(10);
    await stopping;
  });
});
