// The ack tap frames a server's byte stream: the drain's acks come out, every other byte goes
// on to mqtt.js unchanged and in order, however the bytes are cut into reads.
import { PassThrough } from 'node:stream';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { AckFilter, tapAcks, type AckSink } from './ack-tap.js';

const OWN_FROM = 1024;

function gen(p: object, protocolVersion: 4 | 5): Buffer {
  return mqttPacket.generate(p as mqttPacket.Packet, { protocolVersion });
}

/** A server's stream: the drain's acks mixed with everything mqtt.js must still see. */
function traffic(protocolVersion: 4 | 5): { bytes: Buffer; forMqttJs: Buffer; ours: Array<[number, number, number]> } {
  const all: Buffer[] = [];
  const theirs: Buffer[] = [];
  const ours: Array<[number, number, number]> = [];
  const v5 = protocolVersion === 5;
  const add = (p: object, mine?: [number, number, number]) => {
    const b = gen(p, protocolVersion);
    all.push(b);
    if (mine !== undefined) ours.push(mine);
    else theirs.push(b);
  };
  add({ cmd: 'connack', sessionPresent: false, returnCode: 0, reasonCode: 0, ...(v5 ? { properties: { receiveMaximum: 500 } } : {}) });
  add({ cmd: 'suback', messageId: 1, granted: [1] });
  for (let i = 0; i < 300; i++) {
    const id = OWN_FROM + i;
    if (i % 50 === 7) add({ cmd: 'publish', topic: `cmd/${i}`, payload: Buffer.alloc(i * 97, 0x40), qos: 1, messageId: 3, retain: false, dup: false });
    if (i % 40 === 3) add({ cmd: 'puback', messageId: 2 + (i % 5) }); // mqtt.js' own (the fence)
    if (i % 60 === 5) add({ cmd: 'pingresp' });
    if (i % 3 === 0) add({ cmd: 'puback', messageId: id, ...(v5 && i % 9 === 0 ? { reasonCode: 0x87, properties: { reasonString: 'not authorized '.repeat(20), userProperties: { a: 'b' } } } : {}) }, [4, id, v5 && i % 9 === 0 ? 0x87 : 0]);
    else if (i % 3 === 1) add({ cmd: 'pubrec', messageId: id, ...(v5 ? { reasonCode: 0x10 } : {}) }, [5, id, v5 ? 0x10 : 0]);
    else add({ cmd: 'pubcomp', messageId: id }, [7, id, 0]);
  }
  add({ cmd: 'pubrel', messageId: OWN_FROM + 5 }); // server's QoS 2 flow: mqtt.js'
  if (v5) add({ cmd: 'disconnect', reasonCode: 0x8b });
  return { bytes: Buffer.concat(all), forMqttJs: Buffer.concat(theirs), ours };
}

function sink(got: Array<[number, number, number]>): AckSink {
  return { owns: (id) => id >= OWN_FROM, ack: (type, id, reason) => got.push([type, id, reason]) };
}

/** Deterministic pseudo-random cut points. */
function cuts(total: number, seed: number, maxPiece: number): number[] {
  let x = seed;
  const out: number[] = [];
  for (let at = 0; at < total; ) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    at = Math.min(total, at + 1 + (x % maxPiece));
    out.push(at);
  }
  return out;
}

describe('AckFilter', () => {
  for (const protocolVersion of [4, 5] as const) {
    it(`MQTT ${protocolVersion === 4 ? '3.1.1' : '5'}: takes out exactly the drain's acks, hands on everything else byte for byte, at any cut`, () => {
      const t = traffic(protocolVersion);
      for (const [seed, maxPiece] of [[1, 1], [2, 3], [3, 7], [4, 64], [5, 1500], [6, 100_000]] as const) {
        const got: Array<[number, number, number]> = [];
        const f = new AckFilter(sink(got));
        const passed: Buffer[] = [];
        let from = 0;
        for (const to of cuts(t.bytes.length, seed, maxPiece)) {
          const out = f.filter(t.bytes.subarray(from, to));
          if (out !== undefined) passed.push(out);
          from = to;
        }
        expect(Buffer.concat(passed).equals(t.forMqttJs)).toBe(true);
        expect(got).toEqual(t.ours);
      }
    });
  }

  it('a malformed Remaining Length (five bytes) stops the framing: mqtt.js gets every byte from there on', () => {
    const got: Array<[number, number, number]> = [];
    const f = new AckFilter(sink(got));
    const own = gen({ cmd: 'puback', messageId: 2000 }, 4);
    const bad = Buffer.from([0x40, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect(f.filter(own)).toBeUndefined();
    expect(f.filter(Buffer.concat([bad.subarray(0, 3)]))).toBeUndefined();
    expect(f.filter(bad.subarray(3))?.equals(bad)).toBe(true);
    expect(f.filter(own)?.equals(own)).toBe(true);
    expect(got).toEqual([[4, 2000, 0]]);
  });
});

describe('tapAcks', () => {
  it('filters what a Readable pushes; the reader sees the rest, in order, and nothing after untap is filtered', async () => {
    const stream = new PassThrough();
    const got: Array<[number, number, number]> = [];
    const untap = tapAcks(stream, sink(got));
    const received: Buffer[] = [];
    stream.on('data', (d: Buffer) => received.push(d));
    const t = traffic(4);
    // push is how sockets deliver reads; PassThrough's write goes through it as well.
    for (let i = 0; i < t.bytes.length; i += 333) stream.write(t.bytes.subarray(i, i + 333));
    await new Promise((r) => setImmediate(r));
    expect(Buffer.concat(received).equals(t.forMqttJs)).toBe(true);
    expect(got).toEqual(t.ours);
    untap();
    const own = gen({ cmd: 'puback', messageId: 3000 }, 4);
    stream.write(own);
    await new Promise((r) => setImmediate(r));
    expect(received.at(-1)?.equals(own)).toBe(true);
    expect(got).toHaveLength(t.ours.length);
  });
});
