import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { collect, connectClient, rawSocket, sleep, untilClosed, useBroker } from '../../test/helpers/broker.js';
import type { Broker, Message } from './index.js';

let broker: Broker | undefined;
const startBroker = useBroker();

async function start(overrides: Record<string, unknown> = {}) {
  const s = await startBroker(overrides);
  broker = s.broker;
  return s;
}

describe('broker PUBLISH / SUBSCRIBE', () => {
  it.each([3, 4, 5] as const)('delivers QoS 0, 1 and 2 both ways, in order, for protocol %i', async (protocolVersion) => {
    const { url } = await start();
    const sub = await connectClient(url, { protocolVersion, clientId: `sub${protocolVersion}` });
    const pub = await connectClient(url, { protocolVersion, clientId: `pub${protocolVersion}` });
    const inbox = collect(sub);
    const granted = await sub.subscribeAsync('plant/+/temp', { qos: 2 });
    expect(granted[0]?.qos).toBe(2);
    for (const qos of [0, 1, 2] as const) await pub.publishAsync('plant/line1/temp', `q${qos}`, { qos });
    const got = await inbox.next(3);
    expect(got.map((m) => [m.topic, m.payload.toString(), m.packet.qos])).toEqual([
      ['plant/line1/temp', 'q0', 0],
      ['plant/line1/temp', 'q1', 1],
      ['plant/line1/temp', 'q2', 2],
    ]);
  });

  it('downgrades to the granted QoS [MQTT-3.8.4-8] and sends one copy for overlapping subscriptions', async () => {
    const { url } = await start();
    const sub = await connectClient(url, { clientId: 'sub' });
    const pub = await connectClient(url, { clientId: 'pub' });
    const inbox = collect(sub);
    await sub.subscribeAsync('a/#', { qos: 0 });
    await sub.subscribeAsync('a/+', { qos: 1 });
    await pub.publishAsync('a/b', 'x', { qos: 2 });
    await pub.publishAsync('a/b/c', 'y', { qos: 2 });
    const got = await inbox.next(2);
    await sleep(100);
    expect(inbox.got.length).toBe(2);
    expect(got.map((m) => [m.topic, m.packet.qos])).toEqual([['a/b', 1], ['a/b/c', 0]]);
  });

  it('does not match $-topics with a leading wildcard', async () => {
    const { url, broker: b } = await start();
    const sub = await connectClient(url, { clientId: 'sub' });
    const inbox = collect(sub);
    await sub.subscribeAsync('#');
    await sub.subscribeAsync('$app/#');
    b.publish('$app/x', 'dollar');
    b.publish('plain', 'p');
    const got = await inbox.next(2);
    await sleep(100);
    expect(inbox.got.map((m) => m.topic).sort()).toEqual(['$app/x', 'plain']);
    expect(got.length).toBe(2);
  });

  it('stores, replaces and clears retained messages, delivered on subscribe with RETAIN set', async () => {
    const { url, broker: b } = await start();
    const pub = await connectClient(url, { clientId: 'pub' });
    await pub.publishAsync('cfg/a', 'one', { qos: 1, retain: true });
    await pub.publishAsync('cfg/a', 'two', { qos: 1, retain: true });
    await pub.publishAsync('cfg/b', 'bee', { qos: 1, retain: true });
    await pub.publishAsync('cfg/b', '', { qos: 1, retain: true }); // clears [MQTT-3.3.1-10]
    expect(b.retainedCount).toBe(1);
    const sub = await connectClient(url, { clientId: 'sub' });
    const inbox = collect(sub);
    await sub.subscribeAsync('cfg/#', { qos: 1 });
    const [m] = await inbox.next(1);
    expect([m!.topic, m!.payload.toString(), m!.packet.retain]).toEqual(['cfg/a', 'two', true]);
    // A live message to an established subscription has RETAIN cleared [MQTT-3.3.1-9 (3.1.1)].
    await pub.publishAsync('cfg/a', 'three', { qos: 1, retain: true });
    const [, live] = await inbox.next(2);
    expect([live!.payload.toString(), live!.packet.retain]).toEqual(['three', false]);
  });

  it('publishes the will on an abnormal close and on keep alive timeout, not after DISCONNECT', async () => {
    const { url, port } = await start();
    const watcher = await connectClient(url, { clientId: 'watcher' });
    const inbox = collect(watcher);
    await watcher.subscribeAsync('wills/#', { qos: 1 });

    const polite = await connectClient(url, { clientId: 'polite', will: { topic: 'wills/polite', payload: Buffer.from('gone'), qos: 1, retain: false } });
    await polite.endAsync();

    const rude = await connectClient(url, { clientId: 'rude', will: { topic: 'wills/rude', payload: Buffer.from('gone'), qos: 1, retain: false } });
    (rude as unknown as { stream: { destroy(): void } }).stream.destroy(); // socket dropped without DISCONNECT

    const silent = await rawSocket(port);
    silent.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'silent', clean: true, keepalive: 1, will: { topic: 'wills/silent', payload: Buffer.from('timeout'), qos: 1, retain: false } }));
    const closed = untilClosed(silent, 4000);
    const got = await inbox.next(2, 4000);
    await closed;
    expect(got.map((m) => m.topic).sort()).toEqual(['wills/rude', 'wills/silent']);
    await sleep(50);
    expect(inbox.got.length).toBe(2);
  });

  it('MQTT 5 DISCONNECT with reason 0x04 publishes the will', async () => {
    const { url } = await start();
    const watcher = await connectClient(url, { clientId: 'watcher' });
    const inbox = collect(watcher);
    await watcher.subscribeAsync('wills/#');
    const c = await connectClient(url, { protocolVersion: 5, clientId: 'v5', will: { topic: 'wills/v5', payload: Buffer.from('bye'), qos: 0, retain: false } });
    await c.endAsync(false, { reasonCode: 0x04 });
    const [m] = await inbox.next(1);
    expect(m!.payload.toString()).toBe('bye');
  });

  it('keeps no more than the client Receive Maximum in flight and sends the next on PUBACK', async () => {
    const { port, broker: b } = await start();
    const s = await rawSocket(port);
    const parser = mqttPacket.parser({ protocolVersion: 5 });
    const publishes: mqttPacket.IPublishPacket[] = [];
    let suback: () => void = () => undefined;
    const subacked = new Promise<void>((r) => (suback = r));
    parser.on('packet', (p) => {
      if (p.cmd === 'publish') publishes.push(p);
      if (p.cmd === 'suback') suback();
    });
    s.on('data', (d: Buffer) => parser.parse(d));
    s.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'slow', clean: true, keepalive: 30, properties: { receiveMaximum: 2 } }, { protocolVersion: 5 }));
    s.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'w', qos: 1 }] }, { protocolVersion: 5 }));
    await subacked;
    for (let i = 0; i < 5; i++) b.publish('w', `m${i}`, { qos: 1 });
    await sleep(100);
    expect(publishes.map((p) => p.payload.toString())).toEqual(['m0', 'm1']);
    s.write(mqttPacket.generate({ cmd: 'puback', messageId: publishes[0]!.messageId! }, { protocolVersion: 5 }));
    await sleep(100);
    expect(publishes.map((p) => p.payload.toString())).toEqual(['m0', 'm1', 'm2']);
    s.destroy();
  });

  it('answers a duplicate incoming QoS 2 PUBLISH with PUBREC but delivers it once [MQTT-4.3.3-10]', async () => {
    const { port, broker: b } = await start();
    const seen: Message[] = [];
    b.subscribe('q2', (m) => seen.push(m));
    const s = await rawSocket(port);
    const parser = mqttPacket.parser();
    const cmds: string[] = [];
    parser.on('packet', (p) => cmds.push(p.cmd));
    s.on('data', (d: Buffer) => parser.parse(d));
    s.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'q2', clean: true, keepalive: 30 }));
    const pub = mqttPacket.generate({ cmd: 'publish', topic: 'q2', payload: Buffer.from('once'), qos: 2, messageId: 7, dup: false, retain: false });
    s.write(pub);
    s.write(pub);
    s.write(mqttPacket.generate({ cmd: 'pubrel', messageId: 7 }));
    await sleep(150);
    expect(cmds).toEqual(['connack', 'pubrec', 'pubrec', 'pubcomp']);
    expect(seen.map((m) => m.payload.toString())).toEqual(['once']);
    s.destroy();
  });

  it('in-process publish and subscribe reach and hear socket clients', async () => {
    const { url, broker: b } = await start();
    const c = await connectClient(url, { clientId: 'c' });
    const inbox = collect(c);
    await c.subscribeAsync('spBv1.0/#', { qos: 1 });
    const heard: Message[] = [];
    const stop = b.subscribe('cmd/+', (m) => heard.push(m));
    expect(b.publish('spBv1.0/g/NBIRTH/n', Buffer.from([1, 2, 3]), { qos: 1 })).toBe(1);
    const [m] = await inbox.next(1);
    expect([...m!.payload]).toEqual([1, 2, 3]);
    await c.publishAsync('cmd/x', 'go', { qos: 1 });
    expect(heard.map((h) => h.payload.toString())).toEqual(['go']);
    stop();
    await c.publishAsync('cmd/x', 'again', { qos: 1 });
    expect(heard.length).toBe(1);
    expect(() => b.publish('bad/+', 'x')).toThrow(/invalid topic/);
  });

  it('unsubscribe stops delivery and reports 0x11 for an unknown filter on MQTT 5', async () => {
    const { url, broker: b } = await start();
    const c = await connectClient(url, { protocolVersion: 5, clientId: 'c' });
    const inbox = collect(c);
    await c.subscribeAsync('u/1');
    const ack = await c.unsubscribeAsync(['u/1', 'never']);
    expect((ack as { granted?: number[] } | undefined)?.granted).toEqual([0, 0x11]);
    b.publish('u/1', 'x');
    await sleep(100);
    expect(inbox.got.length).toBe(0);
  });

  it('shares $share/group/filter subscriptions round robin, each message to one member per group', async () => {
    const { url, broker: b } = await start();
    b.publish('jobs/x', 'retained', { retain: true });
    const members = await Promise.all(['m1', 'm2', 'm3'].map((id) => connectClient(url, { protocolVersion: 5, clientId: id })));
    const other = await connectClient(url, { clientId: 'other' });
    for (const m of members.slice(0, 2)) await m.subscribeAsync('$share/workers/jobs/+', { qos: 1 });
    await members[2]!.subscribeAsync('$share/audit/jobs/#', { qos: 1 });
    await other.subscribeAsync('jobs/+', { qos: 1 });
    const inboxes = members.map((m) => collect(m));
    const otherInbox = collect(other);
    // A plain subscription gets the retained message; shared ones do not (MQTT 5.0 §4.8.2).
    await otherInbox.next(1);
    otherInbox.got.length = 0;
    for (let i = 0; i < 10; i++) b.publish('jobs/a', String(i), { qos: 1 });
    await inboxes[2]!.next(10);
    await otherInbox.next(10);
    await sleep(50);
    const [a, c] = [inboxes[0]!.got.length, inboxes[1]!.got.length];
    expect(a + c).toBe(10);
    expect(Math.abs(a - c)).toBeLessThanOrEqual(1);
    const all = [...inboxes[0]!.got, ...inboxes[1]!.got].map((m) => Number(m.payload.toString())).sort((x, y) => x - y);
    expect(all).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
