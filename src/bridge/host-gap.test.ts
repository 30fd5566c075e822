// HostGapWatch (issue 14, item 2): a gap the consumer reports past, unchanged for the timeout,
// ends the session once; a gap that moves (a slow consumer catching up) never does.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../shared/clock.js';
import { HostGapWatch } from './host-gap.js';

describe('HostGapWatch', () => {
  it('ends the session when the same gap stays for the timeout, not before', async () => {
    const clock = new ManualClock();
    let gap: number | undefined = 7;
    const stuck: number[] = [];
    const w = new HostGapWatch({ clock, timeoutMs: 1000, gap: () => gap, stuck: (seq) => stuck.push(seq) });
    w.start();
    await clock.advance(1000);
    expect(stuck).toEqual([]);
    await clock.advance(500);
    expect(stuck).toEqual([7]);
    await clock.advance(5000);
    expect(stuck).toEqual([7]); // stopped until the next session
    w.start();
    gap = undefined;
    await clock.advance(5000);
    expect(stuck).toEqual([7]);
    w.stop();
  });

  it('a gap that moves on is progress', async () => {
    const clock = new ManualClock();
    let gap = 1;
    const stuck: number[] = [];
    const w = new HostGapWatch({ clock, timeoutMs: 1000, gap: () => gap, stuck: (seq) => stuck.push(seq) });
    w.start();
    for (let i = 0; i < 20; i++) {
      gap += 1;
      await clock.advance(500);
    }
    expect(stuck).toEqual([]);
    w.stop();
  });
});
