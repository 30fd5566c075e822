import { describe, expect, it } from 'vitest';
import type { TagConfig } from '../config/sections/devices.js';
import { TagState } from './tag-state.js';
import type { Quality, TagValue } from './types.js';

function tag(extra: Partial<TagConfig> = {}): TagConfig {
  return { name: 't', type: 'float64', scale: 1, offset: 0, writable: false, ...extra } as TagConfig;
}

const good = (value: TagValue) => ({ tag: 't', value, quality: 'GOOD' as Quality });

describe('TagState: report by exception', () => {
  it('reports the first reading, then only changes beyond the deadband', () => {
    const s = new TagState('d', tag({ deadband: 1 }), undefined);
    expect(s.accept(good(10), 0)?.reason).toBe('initial');
    expect(s.accept(good(10.5), 1000)).toBeUndefined();
    expect(s.accept(good(10.9), 2000)).toBeUndefined();
    // Deadband is measured from the last *reported* value (10), not the last read (10.9).
    const u = s.accept(good(11.2), 3000);
    expect(u).toMatchObject({ reason: 'change', value: 11.2, quality: 'GOOD', gatewayTime: 3000, sourceTime: 3000 });
    expect(s.accept(good(10.5), 4000)).toBeUndefined();
  });

  it('scales before the deadband, so the deadband is in engineering units', () => {
    const s = new TagState('d', tag({ type: 'int16', scale: 0.1, deadband: 0.5 }), undefined);
    expect(s.accept(good(100), 0)?.value).toBe(10);
    expect(s.accept(good(104), 1)).toBeUndefined();
    expect(s.accept(good(106), 2)?.value).toBeCloseTo(10.6, 10);
  });

  it('sends a heartbeat after maxSilence even when nothing changed', () => {
    const s = new TagState('d', tag({ deadband: 5 }), 10_000);
    s.accept(good(1), 0);
    expect(s.accept(good(1), 9_999)).toBeUndefined();
    expect(s.accept(good(1.1), 10_000)).toMatchObject({ reason: 'heartbeat', value: 1.1 });
    expect(s.accept(good(1), 15_000)).toBeUndefined();
    // heartbeat() serves subscribed tags that got no reading: it repeats the last report.
    expect(s.heartbeat(19_999)).toBeUndefined();
    expect(s.heartbeat(20_000)).toMatchObject({ reason: 'heartbeat', value: 1.1, gatewayTime: 20_000 });
  });

  it('reports quality transitions once each: GOOD → BAD → GOOD', () => {
    const s = new TagState('d', tag(), undefined);
    s.accept(good(5), 0);
    expect(s.fail(1000)).toMatchObject({ reason: 'quality', quality: 'BAD', value: null });
    expect(s.fail(2000)).toBeUndefined();
    expect(s.accept(good(5), 3000)).toMatchObject({ reason: 'quality', quality: 'GOOD', value: 5 });
  });

  it('flags values outside the engineering range as UNCERTAIN, and back to GOOD inside it', () => {
    const s = new TagState('d', tag({ range: { min: 0, max: 10 } }), undefined);
    expect(s.accept(good(5), 0)?.quality).toBe('GOOD');
    expect(s.accept(good(12), 1)).toMatchObject({ quality: 'UNCERTAIN', reason: 'quality', value: 12 });
    expect(s.accept(good(9), 2)).toMatchObject({ quality: 'GOOD', reason: 'quality' });
  });

  it('keeps the device timestamp when the driver supplies one', () => {
    const s = new TagState('d', tag(), undefined);
    expect(s.accept({ tag: 't', value: 1, quality: 'GOOD', sourceTime: 123 }, 999)).toMatchObject({ sourceTime: 123, gatewayTime: 999 });
  });

  it('current() shows the latest value even when it was not reported', () => {
    const s = new TagState('d', tag({ deadband: 100 }), undefined);
    s.accept(good(1), 0);
    s.accept(good(2), 1);
    expect(s.current()).toMatchObject({ value: 2, quality: 'GOOD' });
  });
});
