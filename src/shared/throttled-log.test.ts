import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../observe/logger.js';
import { ManualClock } from './clock.js';
import { ThrottledWarn } from './throttled-log.js';

describe('rate-limited frame logging', () => {
  it('logs the first bad frame at once, then one line per interval carrying the number suppressed', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const clock = new ManualClock();
    const log = new ThrottledWarn(createLogger({ destination, pretty: false }), clock, 10_000);
    for (let i = 0; i < 50; i++) log.warn({ frame: `f${i}` }, 'serial frame rejected');
    await clock.advance(9_999);
    log.warn({ frame: 'f50' }, 'serial frame rejected');
    await clock.advance(1);
    log.warn({ frame: 'f51' }, 'serial frame rejected');
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => [l.frame, l.suppressed])).toEqual([
      ['f0', undefined],
      ['f51', 50],
    ]);
  });
});
