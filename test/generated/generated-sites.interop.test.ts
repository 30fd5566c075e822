// Issue 12, generated site files, the long run: >= 2,000 files (FG_GEN_FILES to change it),
// many gateways at once in this process (lanes), each file run until its devices settle and
// then ~1 s more against real peers. Counterexamples are printed as site files and become
// named regression tests in regressions.test.ts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runLanes } from './run-site.js';
import { siteArbitrary } from './site-arbitrary.js';
import { useWorld } from './peers.js';

const FILES = Number(process.env.FG_GEN_FILES ?? 2000);
const LANES = Number(process.env.FG_GEN_LANES ?? 10);
// A fixed seed in CI (77: 2,000 files, 0 counterexamples when it was chosen), so a submission
// lands or not on its own merits; FG_GEN_SEED=random explores new files.
const SEED = process.env.FG_GEN_SEED === 'random' ? Date.now() % 1_000_000 : Number(process.env.FG_GEN_SEED ?? 77);

const { world, uncaught } = useWorld(LANES, 60_000);

describe(`generated site files, ${FILES} of them (issue 12)`, () => {
  it('every file validate accepts runs: tags GOOD or with a reason, births with values, lifecycle kept', async () => {
    const perLane = Math.ceil(FILES / LANES);
    const lanes = world().lanes.map((peers, i) => fc.sample(siteArbitrary(peers), { seed: SEED + i, numRuns: perLane }));
    let done = 0;
    const results = await runLanes(lanes, { runMs: 1000, settleMs: 8000 }, (site, out) => {
      done += 1;
      if (out.problems.length > 0) process.stderr.write(`counterexample (seed ${SEED}):\n${out.problems.join('\n')}\n${site.yaml}\n`);
      if (done % 200 === 0) process.stderr.write(`generated sites: ${done}/${FILES}\n`);
    });
    const accepted = results.filter((r) => r.out.accepted);
    const byDriver = new Map<string, number>();
    for (const r of accepted) for (const d of r.site.drivers) byDriver.set(d, (byDriver.get(d) ?? 0) + 1);
    const online = accepted.reduce((n, r) => n + r.out.devicesOnline, 0);
    const devices = accepted.reduce((n, r) => n + r.out.devices, 0);
    process.stderr.write(`generated sites: seed ${SEED}, ${results.length} files, ${accepted.length} accepted, devices online ${online}/${devices}, by driver ${JSON.stringify(Object.fromEntries(byDriver))}\n`);
    expect(results.filter((r) => r.out.problems.length > 0).map((r) => `${r.out.problems.join('; ')}\n${r.site.yaml}`)).toEqual([]);
    expect(uncaught).toEqual([]);
    expect(results.length).toBeGreaterThanOrEqual(FILES);
    expect(accepted.length).toBeGreaterThanOrEqual(results.length / 2);
  }, 3_600_000);
});
