import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/shared/clock.js';
import { Framer, type FramingRule } from './framing.js';

function framer(rule: FramingRule, maxLength = 16, interByteTimeout?: number) {
  const clock = new ManualClock();
  const frames: string[] = [];
  const discards: string[] = [];
  const f = new Framer({ rule, maxLength, interByteTimeout, encoding: 'latin1' }, clock, {
    frame: (b) => frames.push(b.toString('latin1')),
    discard: (reason, bytes) => discards.push(`${reason}:${bytes}`),
  });
  const push = (s: string) => f.push(Buffer.from(s, 'latin1'));
  return { f, clock, frames, discards, push };
}

describe('serial framing', () => {
  it('delimiter: frames across chunk borders, including a delimiter split in two', () => {
    const t = framer({ kind: 'delimiter', delimiter: '\r\n' });
    t.push('ST,GS, 12');
    t.push('.5kg\r');
    expect(t.frames).toEqual([]);
    t.push('\nST,GS, 13.0kg\r\nUS');
    expect(t.frames).toEqual(['ST,GS, 12.5kg', 'ST,GS, 13.0kg']);
    t.push(',GS,1\r\n');
    expect(t.frames[2]).toBe('US,GS,1');
  });

  it('delimiter: an over-long frame is dropped whole and the next frame is intact, memory bounded', () => {
    const t = framer({ kind: 'delimiter', delimiter: '\r\n' }, 16);
    for (let i = 0; i < 1000; i++) t.push('x'.repeat(100));
    // Internal buffer never keeps more than maxLength + delimiter - 1 bytes.
    expect((t.f as unknown as { buf: Buffer }).buf.length).toBeLessThanOrEqual(17);
    t.push('tail\r\nok\r\n');
    expect(t.frames).toEqual(['ok']);
    expect(t.discards).toEqual([`overlong:${100_000 + 4 + 2}`]);
  });

  it('delimiter: a frame exactly maxLength long is kept, one byte more is not', () => {
    const t = framer({ kind: 'delimiter', delimiter: '\n' }, 4);
    t.push('abcd\nabcde\nz\n');
    expect(t.frames).toEqual(['abcd', 'z']);
    expect(t.discards).toEqual(['overlong:6']);
  });

  it('fixed length: cuts every N bytes whatever the chunking', () => {
    const t = framer({ kind: 'length', length: 4 });
    t.push('ab');
    t.push('cdefg');
    t.push('hij');
    expect(t.frames).toEqual(['abcd', 'efgh']);
  });

  it('fixed length with inter-byte timeout: a partial frame is dropped after silence, so framing resynchronises', async () => {
    const t = framer({ kind: 'length', length: 4 }, 16, 50);
    t.push('ab');
    await t.clock.advance(60);
    expect(t.discards).toEqual(['partial:2']);
    t.push('WXYZ');
    expect(t.frames).toEqual(['WXYZ']);
    expect(t.clock.timerCount).toBe(0);
  });

  it('markers: noise outside STX..ETX is ignored, split markers still match', () => {
    const t = framer({ kind: 'markers', start: '\x02', end: '\x03' });
    t.push('noise\x02 1.25');
    t.push('\x03garbage\x02');
    t.push('2.50\x03');
    expect(t.frames).toEqual([' 1.25', '2.50']);
    const u = framer({ kind: 'markers', start: '<<', end: '>>' });
    u.push('zz<');
    u.push('<a>');
    u.push('>x<<b>>');
    expect(u.frames).toEqual(['a', 'b']);
  });

  it('markers: an unterminated frame longer than maxLength is dropped up to its end marker', () => {
    const t = framer({ kind: 'markers', start: '$', end: '\n' }, 8);
    t.push('$0123456789abcdef');
    t.push('more\n$ok\n');
    expect(t.frames).toEqual(['ok']);
    expect(t.discards).toEqual(['overlong:20']);
  });

  it('idle: silence ends the frame; a babble longer than maxLength is discarded', async () => {
    const t = framer({ kind: 'idle' }, 8, 20);
    t.push('12');
    await t.clock.advance(10);
    t.push('34');
    await t.clock.advance(10);
    expect(t.frames).toEqual([]);
    await t.clock.advance(15);
    expect(t.frames).toEqual(['1234']);
    t.push('0123456789');
    t.push('more');
    await t.clock.advance(25);
    expect(t.frames).toEqual(['1234']);
    expect(t.discards).toEqual(['overlong:14']);
    expect(t.clock.timerCount).toBe(0);
  });

  it('idle framing without a timeout is refused', () => {
    expect(() => framer({ kind: 'idle' })).toThrow(/interByteTimeout/);
  });

  it('dispose cancels the inter-byte timer', () => {
    const t = framer({ kind: 'delimiter', delimiter: '\n' }, 16, 50);
    t.push('part');
    expect(t.clock.timerCount).toBe(1);
    t.f.dispose();
    expect(t.clock.timerCount).toBe(0);
  });
});
