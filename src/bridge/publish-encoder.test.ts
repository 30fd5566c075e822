// The hand-written PUBLISH / PUBREL bytes, read back by mqtt-packet's parser (the one mqtt.js
// and aedes use): every field must come out as it went in, for 3.1.1 and 5, at the sizes where
// the Remaining Length grows a byte.
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { DEDUP_USER_PROPERTY } from './dedup-key.js';
import { DrainIds, DRAIN_IDS, SESSION_ID_MAX, SessionIdProvider } from './packet-ids.js';
import { PublishEncoder } from './publish-encoder.js';

function parseAll(buf: Buffer, protocolVersion: 4 | 5): mqttPacket.Packet[] {
  const parser = mqttPacket.parser({ protocolVersion });
  const out: mqttPacket.Packet[] = [];
  const errors: Error[] = [];
  parser.on('packet', (p: mqttPacket.Packet) => out.push(p));
  parser.on('error', (e: Error) => errors.push(e));
  // Fed in uneven slices, as a socket would deliver them.
  for (let i = 0; i < buf.length; i += 777) parser.parse(buf.subarray(i, i + 777));
  expect(errors).toEqual([]);
  return out;
}

describe('PublishEncoder', () => {
  it('MQTT 3.1.1: topic, payload, QoS, retain, DUP and packet id survive, packets back to back', () => {
    const enc = new PublishEncoder(4, 'g/node/ep/');
    const payloads = [0, 1, 60, 127 - 2 - 5 - 2, 128, 16_383, 16_384, 70_000].map((n, i) => Buffer.alloc(n, i + 1));
    payloads.forEach((payload, i) => {
      expect(enc.publish({ topic: `t/ü/${i}`, payload, qos: (i % 3) as 0 | 1 | 2, retain: i === 2, dup: i % 2 === 1, messageId: i % 3 === 0 ? 0 : 1024 + i }, 1000 + i)).toBe(true);
    });
    expect(enc.publish({ topic: 'extra', payload: Buffer.from('x'), qos: 1, retain: false, dup: false, messageId: 65535 }, 1, { a: 'b' })).toBe(true);
    const packets = parseAll(enc.take() as Buffer, 4) as mqttPacket.IPublishPacket[];
    expect(packets).toHaveLength(payloads.length + 1);
    packets.slice(0, payloads.length).forEach((p, i) => {
      expect(p.cmd).toBe('publish');
      expect(p.topic).toBe(`t/ü/${i}`);
      expect(Buffer.from(p.payload as Buffer).equals(payloads[i] as Buffer)).toBe(true);
      expect(p.qos).toBe(i % 3);
      expect(p.retain).toBe(i === 2);
      // DUP only on QoS 1/2 [MQTT-3.3.1-2].
      expect(p.dup).toBe(i % 2 === 1 && i % 3 !== 0);
      if (i % 3 !== 0) expect(p.messageId).toBe(1024 + i);
      expect(p.properties).toBeUndefined();
    });
    expect(packets[payloads.length]).toMatchObject({ topic: 'extra', messageId: 65535 });
    expect(packets[payloads.length]?.properties).toBeUndefined();
    expect(enc.take()).toBeUndefined();
  });

  it('MQTT 5: every PUBLISH carries fg-dedup = prefix + sequence, plus the sender\'s own user properties', () => {
    const enc = new PublishEncoder(5, 'plant1/press-4/mhx2k3/');
    const seqs = [1, 9, 10, 99, 100, 123_456_789, Number.MAX_SAFE_INTEGER];
    seqs.forEach((seq, i) => enc.publish({ topic: 'spBv1.0/plant1/DDATA/press-4', payload: Buffer.from([i]), qos: 1, retain: false, dup: false, messageId: 2000 + i }, seq));
    enc.publish({ topic: 'x', payload: Buffer.alloc(20_000, 3), qos: 2, retain: true, dup: true, messageId: 4000 }, 42, { site: 'north', [DEDUP_USER_PROPERTY]: 'ignored' });
    const packets = parseAll(enc.take() as Buffer, 5) as mqttPacket.IPublishPacket[];
    expect(packets.slice(0, seqs.length).map((p) => p.properties?.userProperties)).toEqual(seqs.map((s) => ({ [DEDUP_USER_PROPERTY]: `plant1/press-4/mhx2k3/${s}` })));
    expect(packets.slice(0, seqs.length).map((p) => p.messageId)).toEqual(seqs.map((_, i) => 2000 + i));
    const last = packets[seqs.length];
    expect(last).toMatchObject({ topic: 'x', qos: 2, retain: true, dup: true, messageId: 4000 });
    expect(last?.properties?.userProperties).toEqual({ [DEDUP_USER_PROPERTY]: 'plant1/press-4/mhx2k3/42', site: 'north' });
    expect((last?.payload as Buffer).length).toBe(20_000);
  });

  it('PUBREL, and a batch taken twice is two independent buffers', () => {
    const enc = new PublishEncoder(4, 'n/e/');
    enc.pubrel(1025);
    enc.pubrel(65535);
    const first = enc.take() as Buffer;
    enc.publish({ topic: 'a', payload: Buffer.from('1'), qos: 0, retain: false, dup: false, messageId: 0 }, 1);
    const second = enc.take() as Buffer;
    expect(parseAll(first, 4)).toMatchObject([{ cmd: 'pubrel', messageId: 1025 }, { cmd: 'pubrel', messageId: 65535 }]);
    expect(parseAll(second, 4)).toMatchObject([{ cmd: 'publish', topic: 'a' }]);
  });
});

describe('packet identifier ranges', () => {
  it('mqtt.js gets 1..SESSION_ID_MAX only, null when all are taken, freed ids come back', () => {
    const p = new SessionIdProvider();
    const ids = Array.from({ length: SESSION_ID_MAX }, () => p.allocate());
    expect(new Set(ids).size).toBe(SESSION_ID_MAX);
    expect(Math.min(...(ids as number[]))).toBe(1);
    expect(Math.max(...(ids as number[]))).toBe(SESSION_ID_MAX);
    expect(p.allocate()).toBeNull();
    p.deallocate(17);
    expect(p.allocate()).toBe(17);
    expect(p.register(SESSION_ID_MAX + 1)).toBe(false);
    p.clear();
    expect(p.register(5)).toBe(true);
    expect(p.register(5)).toBe(false);
  });

  it('the drain gets the ids above, each mapped to its sequence until released, wrapping around', () => {
    const d = new DrainIds();
    const first = d.allocate(1, 't') as number;
    expect(first).toBe(SESSION_ID_MAX + 1);
    for (let s = 2; s <= DRAIN_IDS; s++) d.allocate(s, 't');
    expect(d.inUse).toBe(DRAIN_IDS);
    expect(d.allocate(99_999, 't')).toBeUndefined();
    expect(d.seqOf(65535)).toBe(DRAIN_IDS);
    expect(d.release(first + 5)).toBe(6);
    expect(d.release(first + 5)).toBe(0);
    expect(d.allocate(70_000, 'u')).toBe(first + 5);
    expect(d.topicOf(first + 5)).toBe('u');
    expect(d.owns(SESSION_ID_MAX)).toBe(false);
    expect(d.owns(65535)).toBe(true);
  });
});
