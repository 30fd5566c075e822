import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { collect, connectClient, connectWithAck, rawSocket, sleep, untilClosed, useBroker } from '../../test/helpers/broker.js';
import { ManualClock } from '../shared/clock.js';

const start = useBroker();

const v5 = { protocolVersion: 5 as const };

describe('MQTT 5 features', () => {
  it('advertises its limits in CONNACK and overrides keep alive with Server Keep Alive', async () => {
    const { url } = await start({ limits: { maxKeepalive: '10s', maxInflight: 50, maxPacketSize: '64KiB', topicAliasMaximum: 8 } });
    const { connack } = await connectWithAck(url, { ...v5, clientId: 'k', keepalive: 0 });
    expect(connack.properties).toMatchObject({
      receiveMaximum: 50,
      maximumPacketSize: 65536,
      topicAliasMaximum: 8,
      serverKeepAlive: 10,
      retainAvailable: true,
      sharedSubscriptionAvailable: true,
      subscriptionIdentifiersAvailable: true,
      wildcardSubscriptionAvailable: true,
    });
  });

  it('honours No Local, Retain As Published and Retain Handling', async () => {
    const { url, broker } = await start();
    broker.publish('opt/r', 'retained', { retain: true });
    const c = await connectClient(url, { ...v5, clientId: 'opts' });
    const inbox = collect(c);
    await c.subscribeAsync('opt/#', { qos: 1, nl: true, rap: true, rh: 0 });
    await inbox.next(1); // the retained one
    await c.subscribeAsync('opt/#', { qos: 1, nl: true, rap: true, rh: 1 }); // exists: no retained again
    await c.subscribeAsync('opt/+', { qos: 1, rh: 2 }); // never retained
    await sleep(100);
    expect(inbox.got.length).toBe(1);
    await c.publishAsync('opt/own', 'mine', { qos: 1 }); // No Local: not back to opt/#, but opt/+ has no NL
    broker.publish('opt/x', 'live retained', { retain: true, qos: 1 });
    const got = await inbox.next(3);
    await sleep(50);
    expect(inbox.got.length).toBe(3);
    expect(got.slice(1).map((m) => [m.payload.toString(), m.packet.retain])).toEqual([
      ['mine', false],
      ['live retained', true], // Retain As Published on opt/#
    ]);
  });

  it('attaches every matching Subscription Identifier', async () => {
    const { url, broker } = await start();
    const c = await connectClient(url, { ...v5, clientId: 'ids' });
    const inbox = collect(c);
    await c.subscribeAsync('s/#', { qos: 0, properties: { subscriptionIdentifier: 11 } });
    await c.subscribeAsync('s/+', { qos: 0, properties: { subscriptionIdentifier: 22 } });
    broker.publish('s/a', 'x');
    const [m] = await inbox.next(1);
    const ids = m!.packet.properties?.subscriptionIdentifier;
    expect((Array.isArray(ids) ? ids : [ids]).sort()).toEqual([11, 22]);
  });

  it('passes user properties, content type, correlation data and response topic through; resolves topic aliases', async () => {
    const { url, port } = await start({ limits: { topicAliasMaximum: 4 } });
    const sub = await connectClient(url, { ...v5, clientId: 'sub' });
    const inbox = collect(sub);
    await sub.subscribeAsync('p/#', { qos: 1 });
    const pub = await connectClient(url, { ...v5, clientId: 'pub' });
    const properties = { userProperties: { site: 'north', k: ['a', 'b'] }, contentType: 'application/json', correlationData: Buffer.from('corr'), responseTopic: 'p/reply', payloadFormatIndicator: true };
    await pub.publishAsync('p/full', '{}', { qos: 1, properties });
    const [m] = await inbox.next(1);
    expect(m!.packet.properties).toMatchObject(properties);

    // Topic alias: first PUBLISH sets alias 3, the second uses it with an empty topic.
    const raw = await rawSocket(port);
    raw.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'alias', clean: true, keepalive: 30 }, v5));
    raw.write(mqttPacket.generate({ cmd: 'publish', topic: 'p/aliased', payload: Buffer.from('1'), qos: 0, dup: false, retain: false, properties: { topicAlias: 3 } }, v5));
    raw.write(mqttPacket.generate({ cmd: 'publish', topic: '', payload: Buffer.from('2'), qos: 0, dup: false, retain: false, properties: { topicAlias: 3 } }, v5));
    const got = await inbox.next(3);
    expect(got.slice(1).map((g) => [g.topic, g.payload.toString()])).toEqual([['p/aliased', '1'], ['p/aliased', '2']]);
    // An alias above our maximum closes the connection with 0x94.
    raw.write(mqttPacket.generate({ cmd: 'publish', topic: 'p/x', payload: Buffer.from('3'), qos: 0, dup: false, retain: false, properties: { topicAlias: 5 } }, v5));
    const parser = mqttPacket.parser(v5);
    const packets: mqttPacket.Packet[] = [];
    parser.on('packet', (p) => packets.push(p));
    parser.parse(await untilClosed(raw));
    expect(packets.at(-1)).toMatchObject({ cmd: 'disconnect', reasonCode: 0x94 });
  });

  it('drops a queued message whose expiry passed and sends the remaining interval otherwise', async () => {
    const clock = new ManualClock(Date.now());
    const { url, broker } = await start({}, { clock });
    const c1 = await connectClient(url, { ...v5, clientId: 'mx', clean: false, properties: { sessionExpiryInterval: 3600 } });
    await c1.subscribeAsync('mx', { qos: 1 });
    await c1.endAsync();
    broker.publish('mx', 'short', { qos: 1, properties: { messageExpiryInterval: 5 } });
    broker.publish('mx', 'long', { qos: 1, properties: { messageExpiryInterval: 100 } });
    await clock.advance(10_000);
    const c2 = await connectClient(url, { ...v5, clientId: 'mx', clean: false, properties: { sessionExpiryInterval: 3600 } });
    const inbox = collect(c2);
    const [m] = await inbox.next(1);
    await sleep(50);
    expect(inbox.got.map((g) => g.payload.toString())).toEqual(['long']);
    expect(m!.packet.properties?.messageExpiryInterval).toBe(90);
  });

  it("does not send a message larger than the client's Maximum Packet Size", async () => {
    const { url, broker } = await start();
    const c = await connectClient(url, { ...v5, clientId: 'small', properties: { maximumPacketSize: 100 } });
    const inbox = collect(c);
    await c.subscribeAsync('big/#', { qos: 1 });
    broker.publish('big/1', Buffer.alloc(500), { qos: 1 });
    broker.publish('big/2', 'fits', { qos: 1 });
    const [m] = await inbox.next(1);
    await sleep(50);
    expect(inbox.got.length).toBe(1);
    expect(m!.topic).toBe('big/2');
  });

  it('delays the will by the Will Delay Interval and cancels it when the client returns', async () => {
    const { url } = await start();
    const watcher = await connectClient(url, { clientId: 'w' });
    const inbox = collect(watcher);
    await watcher.subscribeAsync('will/#');
    const opts = { ...v5, clientId: 'delayed', clean: false, properties: { sessionExpiryInterval: 60 }, will: { topic: 'will/delayed', payload: Buffer.from('late'), qos: 0 as const, retain: false, properties: { willDelayInterval: 1 } } };
    const c1 = await connectClient(url, opts);
    (c1 as unknown as { stream: { destroy(): void } }).stream.destroy();
    await sleep(300);
    await connectClient(url, opts); // back within the delay: no will
    await sleep(1000);
    expect(inbox.got.length).toBe(0);
    const c3 = closeAbruptly(await connectClient(url, { ...opts, clientId: 'delayed2' }));
    await c3;
    const t0 = Date.now();
    await inbox.next(1, 3000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
  });

  it('answers a PUBLISH with a Subscription Identifier with DISCONNECT 0x82', async () => {
    const { port } = await start();
    const raw = await rawSocket(port);
    raw.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'bad', clean: true, keepalive: 30 }, v5));
    raw.write(mqttPacket.generate({ cmd: 'publish', topic: 'x', payload: Buffer.from('1'), qos: 0, dup: false, retain: false, properties: { subscriptionIdentifier: 4 } }, v5));
    const parser = mqttPacket.parser(v5);
    const packets: mqttPacket.Packet[] = [];
    parser.on('packet', (p) => packets.push(p));
    parser.parse(await untilClosed(raw));
    expect(packets.map((p) => [p.cmd, (p as { reasonCode?: number }).reasonCode])).toEqual([['connack', 0], ['disconnect', 0x82]]);
  });

  it('sends successful acks in the two-byte form older MQTT 5 clients (paho 1.6) need', async () => {
    const { port } = await start();
    const raw = await rawSocket(port);
    const replies: Buffer[] = [];
    raw.on('data', (d: Buffer) => replies.push(d));
    raw.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'short', clean: true, keepalive: 30 }, v5));
    raw.write(mqttPacket.generate({ cmd: 'publish', topic: 'x', payload: Buffer.from('1'), qos: 1, messageId: 11, dup: false, retain: false }, v5));
    raw.write(mqttPacket.generate({ cmd: 'publish', topic: 'x', payload: Buffer.from('2'), qos: 2, messageId: 12, dup: false, retain: false }, v5));
    raw.write(mqttPacket.generate({ cmd: 'pubrel', messageId: 12 }, v5));
    await sleep(100);
    const bytes = Buffer.concat(replies);
    const connackLength = 2 + (bytes[1] as number);
    // PUBACK 11 with reason 0x10 (no subscribers) keeps its reason byte; PUBREC and PUBCOMP are short.
    expect([...bytes.subarray(connackLength)]).toEqual([0x40, 4, 0, 11, 0x10, 0, 0x50, 4, 0, 12, 0x10, 0, 0x70, 2, 0, 12]);
    raw.destroy();
  });
});

async function closeAbruptly(client: { stream?: unknown }): Promise<void> {
  (client as unknown as { stream: { destroy(): void } }).stream.destroy();
}
