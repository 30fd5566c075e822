// Issue 18 item 8: a PUBLISH whose MQTT 5 property block is malformed (a user property that
// runs past the block's length, invalid UTF-8, an unknown or repeated single-use id) is a
// malformed packet: the connection is closed with 0x81 and nothing is routed or retained.
import mqttPacket from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { closeClients, connectClient, rawSocket, sleep, startBroker, untilClosed } from '../../test/helpers/broker.js';
import { Broker, MemoryPersistence } from './index.js';
import { brokerSchema } from '../config/sections/broker.js';

let broker: Broker | undefined;
afterEach(async () => {
  await closeClients();
  await broker?.close();
  broker = undefined;
});

/** A retained QoS 0 PUBLISH on r/t with `props` as its property block, byte for byte. */
function publishWithProps(props: Buffer, payload = 'xyz'): Buffer {
  const topic = Buffer.from([0, 3, 0x72, 0x2f, 0x74]);
  const body = Buffer.concat([topic, Buffer.from([props.length]), props, Buffer.from(payload)]);
  return Buffer.concat([Buffer.from([0x31, body.length]), body]);
}

const cases: Array<[string, Buffer]> = [
  ['user property running past the property length', Buffer.from([0x26, 0, 1, 0x6b, 0, 5, 0x76, 0x61])],
  ['user property value with invalid UTF-8', Buffer.from([0x26, 0, 1, 0x6b, 0, 2, 0xc3, 0x28])],
  ['unknown property id', Buffer.from([0x7f, 1])],
  ['Payload Format Indicator twice', Buffer.from([0x01, 0, 0x01, 1])],
];

describe('malformed PUBLISH properties (issue 18)', () => {
  for (const [name, props] of cases) {
    it(`refuses a ${name}, and stores nothing`, async () => {
      const s = await startBroker();
      broker = s.broker;
      const sock = await rawSocket(s.port);
      const closed = untilClosed(sock, 3000);
      sock.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'bad-props', clean: true, keepalive: 30 }));
      await sleep(50);
      sock.write(publishWithProps(props));
      const bytes = await closed;
      const parser = mqttPacket.parser({ protocolVersion: 5 });
      const got: mqttPacket.Packet[] = [];
      parser.on('packet', (p) => got.push(p));
      parser.parse(bytes);
      expect(got.find((p) => p.cmd === 'disconnect')).toMatchObject({ reasonCode: 0x81 });
      expect(s.broker.retainedCount).toBe(0);
      // An MQTT 5 subscriber still works and gets no retained message from it.
      const sub = await connectClient(s.url, { clientId: 'v5sub', protocolVersion: 5 });
      const seen: string[] = [];
      sub.on('message', (t) => seen.push(t));
      await sub.subscribeAsync('r/#', { qos: 1 });
      await sleep(100);
      expect(seen).toEqual([]);
    });
  }

  it('still accepts well-formed properties, user properties included', async () => {
    const s = await startBroker();
    broker = s.broker;
    const pub = await connectClient(s.url, { clientId: 'good-props', protocolVersion: 5 });
    await pub.publishAsync('r/ok', 'v', { qos: 1, retain: true, properties: { userProperties: { k: ['a', 'b'], é: 'ü' }, contentType: 'text/plain', payloadFormatIndicator: true } });
    const sub = await connectClient(s.url, { clientId: 'v5sub2', protocolVersion: 5 });
    const got = new Promise<mqttPacket.IPublishPacket>((r) => sub.once('message', (_t, _p, packet) => r(packet)));
    await sub.subscribeAsync('r/#', { qos: 1 });
    expect((await got).properties?.userProperties).toEqual({ k: ['a', 'b'], é: 'ü' });
  });

  it('drops at start a retained message stored before the check that MQTT 5 cannot encode', async () => {
    const persistence = new MemoryPersistence();
    persistence.putRetained({ topic: 'r/old', payload: Buffer.from('x'), qos: 0, retain: true, properties: { userProperties: { k: null as unknown as string } } });
    persistence.putRetained({ topic: 'r/fine', payload: Buffer.from('y'), qos: 0, retain: true });
    broker = new Broker(brokerSchema.parse({ listeners: [{ host: '127.0.0.1', port: 0 }], sysInterval: false }), { persistence });
    expect(broker.retainedCount).toBe(1);
    expect(persistence.listRetained().map((m) => m.topic)).toEqual(['r/fine']);
  });
});
