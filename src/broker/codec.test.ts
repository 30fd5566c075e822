import mqttPacket, { type IPublishPacket, type Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { prng } from '../../test/helpers/fuzz-corpus.js';
import { decodeFast, decodeFastAt, encodePublishFast, TopicReuse } from './codec.js';

function viaMqttPacket(frame: Buffer, protocolVersion: number): Packet | undefined {
  const parser = mqttPacket.parser({ protocolVersion });
  let out: Packet | undefined;
  parser.on('packet', (p) => (out = p));
  parser.on('error', () => (out = undefined));
  parser.parse(frame);
  return out;
}

describe('fast codec agrees with mqtt-packet', () => {
  it('encodes PUBLISH byte for byte like mqtt-packet, for 3.1.1 and 5', () => {
    const rnd = prng(7);
    for (let i = 0; i < 500; i++) {
      const v = rnd() < 0.5 ? 4 : 5;
      const qos = Math.floor(rnd() * 3) as 0 | 1 | 2;
      const p: IPublishPacket = {
        cmd: 'publish',
        topic: `t/${'ü'.repeat(Math.floor(rnd() * 5))}/${i}`,
        payload: Buffer.alloc(Math.floor(rnd() * 300) * (rnd() < 0.1 ? 100 : 1), i & 0xff),
        qos,
        dup: rnd() < 0.3,
        retain: rnd() < 0.3,
        ...(qos > 0 ? { messageId: 1 + Math.floor(rnd() * 65535) } : {}),
      };
      const fast = encodePublishFast(p, v);
      expect(fast?.equals(mqttPacket.generate(p, { protocolVersion: v }))).toBe(true);
      const back = decodeFast(fast!, v) as IPublishPacket;
      expect({ ...back, payload: [...back.payload] }).toEqual({ ...p, payload: [...(p.payload as Buffer)] });
    }
  });

  it('leaves PUBLISH with properties, QoS 3 and bad ack flags to mqtt-packet', () => {
    const withProps = mqttPacket.generate({ cmd: 'publish', topic: 'a', payload: Buffer.from('x'), qos: 0, dup: false, retain: false, properties: { contentType: 'x' } }, { protocolVersion: 5 });
    expect(decodeFast(withProps, 5)).toBeUndefined();
    expect(encodePublishFast({ cmd: 'publish', topic: 'a', payload: Buffer.alloc(0), qos: 0, dup: false, retain: false, properties: {} }, 5)).toBeUndefined();
    expect(decodeFast(Buffer.from([0x36, 3, 0, 1, 0x61]), 4)).toBeUndefined();
    expect(decodeFast(Buffer.from([0x60, 2, 0, 1]), 4)).toBeUndefined(); // PUBREL needs flags 0010
    expect(decodeFast(Buffer.from([0x62, 2, 0, 1]), 4)).toEqual(viaMqttPacket(Buffer.from([0x62, 2, 0, 1]), 4) && { cmd: 'pubrel', messageId: 1 });
    expect(decodeFast(Buffer.from([0x40, 2, 1, 2]), 5)).toEqual({ cmd: 'puback', messageId: 258 });
    expect(decodeFast(Buffer.from([0xc0, 0]), 4)).toEqual({ cmd: 'pingreq' });
  });

  it('decodes a frame in the middle of a chunk, and reuses the topic string only for the same bytes (issue 15)', () => {
    const a = mqttPacket.generate({ cmd: 'publish', topic: 'room/1', payload: Buffer.from('one'), qos: 1, messageId: 7, dup: false, retain: false });
    const b = mqttPacket.generate({ cmd: 'publish', topic: 'room/2', payload: Buffer.from('two'), qos: 0, dup: false, retain: false });
    const chunk = Buffer.concat([b, a, a, b]);
    const topics = new TopicReuse();
    const first = decodeFastAt(chunk, b.length, b.length + a.length, 4, topics) as IPublishPacket;
    const second = decodeFastAt(chunk, b.length + a.length, b.length + 2 * a.length, 4, topics) as IPublishPacket;
    const third = decodeFastAt(chunk, b.length + 2 * a.length, chunk.length, 4, topics) as IPublishPacket;
    expect([first.topic, first.messageId, first.payload.toString()]).toEqual(['room/1', 7, 'one']);
    expect([second.topic, second.payload.toString()]).toEqual(['room/1', 'one']);
    expect([third.topic, third.payload.toString(), third.qos]).toEqual(['room/2', 'two', 0]);
    // QoS 1 payloads are copies the chunk can be collected without; QoS 0 ones are views of it.
    expect((first.payload as Buffer).buffer).not.toBe(chunk.buffer);
    expect((third.payload as Buffer).buffer).toBe(chunk.buffer);
  });
});

