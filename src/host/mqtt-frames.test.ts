import mqtt from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { readPublish } from './mqtt-frames.js';

function publishV5(userProperties: Record<string, string | string[]>): Buffer {
  return mqtt.generate({ cmd: 'publish', topic: 't', payload: Buffer.from('p'), qos: 0, dup: false, retain: false, properties: { userProperties } }, { protocolVersion: 5 });
}

describe('readPublish: user properties from the broker', () => {
  it('a key named like an Object.prototype member is a plain key, not the prototype', () => {
    const p = readPublish(publishV5({ __proto__: ['x'], constructor: 'y' } as unknown as Record<string, string>), 5);
    expect(p?.userProperties?.['constructor']).toBe('y');
    expect(Object.getPrototypeOf(p?.userProperties)).toBe(null);
  });

  it('a key repeated thousands of times is read in linear time', () => {
    const values = Array.from({ length: 20_000 }, (_, i) => String(i));
    const frame = publishV5({ k: values });
    const t0 = performance.now();
    const p = readPublish(frame, 5);
    expect(p?.userProperties?.['k']).toEqual(values);
    expect(performance.now() - t0).toBeLessThan(500);
  });
});
