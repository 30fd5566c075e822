import { describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from '../shared/clock.js';
import { FixedRateLoop } from './fixed-rate.js';

/**
 * A 100 ms loop on a manual clock, run for `ms` and then given `drainMs` to end; tick n (from 1)
 * takes `cost(n)`. Returns when each tick started and the missed slots it counted.
 */
async function ticksOnManualClock(ms: number, drainMs: number, cost: (n: number) => number): Promise<{ starts: number[]; overruns: number }> {
  const clock = new ManualClock();
  const starts: number[] = [];
  let overruns = 0;
  const loop = new FixedRateLoop({
    clock,
    interval: 100,
    onOverrun: (n) => (overruns += n),
    tick: () => {
      starts.push(clock.monotonic());
      return new Promise<void>((r) => clock.setTimeout(r, cost(starts.length)));
    },
  });
  loop.begin();
  await clock.advance(ms);
  const ended = loop.end();
  await clock.advance(drainMs);
  await ended;
  return { starts, overruns };
}

describe('FixedRateLoop', () => {
  it('keeps ticks on their slots whatever each tick costs (no drift)', async () => {
    const costs = [30, 80, 5, 99, 0, 60, 10, 45, 70, 20];
    const { starts, overruns } = await ticksOnManualClock(1000, 200, (n) => costs[(n - 1) % costs.length] ?? 0);
    expect(starts).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
    expect(overruns).toBe(0);
  });

  it('skips the slots an overrunning tick missed instead of bursting, and counts them', async () => {
    // The third tick takes 250 ms: slots 300 and 400 are missed, the next runs at 500.
    const { starts, overruns } = await ticksOnManualClock(700, 300, (n) => (n === 3 ? 250 : 10));
    expect(starts).toEqual([0, 100, 200, 500, 600, 700]);
    expect(overruns).toBe(2);
  });

  it('does not drift on the real clock either', async () => {
    const interval = 40;
    const starts: number[] = [];
    const t0 = performance.now();
    const loop = new FixedRateLoop({
      clock: systemClock,
      interval,
      tick: async () => {
        starts.push(performance.now() - t0);
        // Work that costs 15 ms each time: a setTimeout(interval) loop would drift 15 ms per tick.
        await new Promise((r) => setTimeout(r, 15));
      },
    });
    loop.begin();
    await new Promise((r) => setTimeout(r, interval * 25 + 20));
    await loop.end();
    expect(starts.length).toBeGreaterThanOrEqual(24);
    // Ticks start on the slot grid (multiples of interval) plus timer latency, which must not
    // accumulate: a loop that drifted 15 ms per tick would make ~19 ticks, not 24 (above). Late
    // timers on a loaded box are not drift, and a slot skipped after one (an overrun, by design)
    // shifts the tick's index, not the grid: the Node 26 suite run of issue 15 skipped one at the
    // last tick. So: the best of the last five ticks, against the grid. Timers may also fire up
    // to a millisecond early (the loop's clock is coarser than performance.now()): -5..35 ms.
    const lateness = starts.slice(-5).map((at) => ((at + 5) % interval) - 5);
    expect(Math.min(...lateness)).toBeLessThan(25);
  });

  it('end() stops the loop and waits for a tick in progress', async () => {
    const clock = new ManualClock();
    let finished = 0;
    const loop = new FixedRateLoop({ clock, interval: 50, tick: () => new Promise<void>((r) => clock.setTimeout(() => (finished++, r()), 20)) });
    loop.begin();
    await clock.advance(10);
    const ended = loop.end();
    await clock.advance(20);
    await ended;
    expect(finished).toBe(1);
    expect(clock.timerCount).toBe(0);
  });
});
