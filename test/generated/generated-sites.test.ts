// Issue 12, generated site files (default suite: a fixed seed, bounded to ~30 s). Every file
// `validate` accepts must run: no uncaught exception, every tag GOOD or with a reason, births
// with values, the device lifecycle kept. The interop suite runs >= 2,000 of them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runLanes } from './run-site.js';
import { siteArbitrary } from './site-arbitrary.js';
import { useWorld } from './peers.js';

const SEED = 20261202;
const LANES = 2;
const PER_LANE = 4;

const { world, uncaught } = useWorld(LANES, 30_000);

describe('generated site files (issue 12)', () => {
  it('every file validate accepts runs: tags GOOD or with a reason, births with values, lifecycle kept', async () => {
    const lanes = world().lanes.map((peers, i) => fc.sample(siteArbitrary(peers), { seed: SEED + i, numRuns: PER_LANE }));
    const results = await runLanes(lanes, { runMs: 1200, settleMs: 8000 });
    const failures = results.filter((r) => r.out.problems.length > 0);
    expect(failures.map((f) => `${f.out.problems.join('; ')}\n${f.site.yaml}`)).toEqual([]);
    expect(uncaught).toEqual([]);
    // The generator must mostly produce files the checks accept, or the property says little.
    expect(results.filter((r) => r.out.accepted).length).toBeGreaterThanOrEqual(results.length / 2);
  }, 60_000);
});
