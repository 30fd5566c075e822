import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { connectClient, connectWithAck, rawSocket, sleep, untilClosed, useBroker } from '../../test/helpers/broker.js';
import type { Broker } from './index.js';
import { ManualClock } from '../shared/clock.js';

let broker: Broker | undefined;
const startBroker = useBroker();

const connect = (version: 3 | 4 | 5, extra: Record<string, unknown> = {}) =>
  mqttPacket.generate({ cmd: 'connect', protocolId: version === 3 ? 'MQIsdp' : 'MQTT', protocolVersion: version, clientId: 'raw', clean: true, keepalive: 30, ...extra } as mqttPacket.IConnectPacket);

function parseAll(buf: Buffer, protocolVersion: number): mqttPacket.Packet[] {
  const parser = mqttPacket.parser({ protocolVersion });
  const out: mqttPacket.Packet[] = [];
  parser.on('packet', (p) => out.push(p));
  parser.parse(buf);
  return out;
}

describe('broker CONNECT / CONNACK', () => {
  it('accepts MQTT 3.1, 3.1.1 and 5.0 clients on one listener', async () => {
    const started = await startBroker();
    broker = started.broker;
    for (const v of [3, 4, 5] as const) {
      const c = await connectClient(started.url, { protocolVersion: v, clientId: `c${v}` });
      expect(c.connected).toBe(true);
    }
    expect(broker.clientCount).toBe(3);
  });

  it('assigns a client id to an MQTT 5 client that sent none, and refuses an empty one with Clean Session 0 on 3.1.1', async () => {
    const started = await startBroker();
    broker = started.broker;
    const { connack } = await connectWithAck(started.url, { protocolVersion: 5, clientId: '' });
    expect(connack.properties?.assignedClientIdentifier).toMatch(/^fg-/);
    const s = await rawSocket(started.port);
    // mqtt-packet refuses to encode this one, so the bytes are written out: Clean Session 0, empty id.
    s.write(Buffer.from([0x10, 12, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x00, 0, 30, 0, 0]));
    const reply = parseAll(await untilClosed(s), 4);
    expect(reply[0]).toMatchObject({ cmd: 'connack', returnCode: 2 });
  });

  it('answers PINGREQ and closes an idle client after 1.5 x keep alive', async () => {
    const started = await startBroker();
    broker = started.broker;
    const s = await rawSocket(started.port);
    s.write(connect(4, { keepalive: 1 }));
    s.write(mqttPacket.generate({ cmd: 'pingreq' }));
    const t0 = Date.now();
    const packets = parseAll(await untilClosed(s, 4000), 4);
    const elapsed = Date.now() - t0;
    expect(packets.map((p) => p.cmd)).toEqual(['connack', 'pingresp']);
    expect(elapsed).toBeGreaterThanOrEqual(1400);
    expect(elapsed).toBeLessThan(3000);
  });

  it('closes a connection whose first packet is not CONNECT, and one that sends a second CONNECT', async () => {
    const started = await startBroker();
    broker = started.broker;
    const a = await rawSocket(started.port);
    a.write(mqttPacket.generate({ cmd: 'pingreq' }));
    expect((await untilClosed(a)).length).toBe(0);
    const b = await rawSocket(started.port);
    b.write(connect(5));
    b.write(connect(5));
    const packets = parseAll(await untilClosed(b), 5);
    expect(packets.map((p) => p.cmd)).toEqual(['connack', 'disconnect']);
    expect(packets[1]).toMatchObject({ reasonCode: 0x82 });
  });

  it('a malformed packet closes that connection only', async () => {
    const started = await startBroker();
    broker = started.broker;
    const good = await connectClient(started.url, { clientId: 'good' });
    const bad = await rawSocket(started.port);
    bad.write(connect(4));
    // PUBLISH with QoS bits 11 is malformed [MQTT-3.3.1-4].
    bad.write(Buffer.from([0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01]));
    await untilClosed(bad);
    await good.publishAsync('still/alive', 'yes', { qos: 1 });
    expect(good.connected).toBe(true);
  });

  it('refuses an oversized packet before buffering it, with reason 0x95 on MQTT 5', async () => {
    const started = await startBroker({ limits: { maxPacketSize: '1KiB' } });
    broker = started.broker;
    const s = await rawSocket(started.port);
    s.write(connect(5));
    // Only the fixed header of a 10 MB PUBLISH: the length alone is enough to refuse it.
    s.write(Buffer.from([0x30, 0x80, 0xad, 0xe2, 0x04]));
    const packets = parseAll(await untilClosed(s), 5);
    expect(packets.map((p) => p.cmd)).toEqual(['connack', 'disconnect']);
    expect(packets[1]).toMatchObject({ reasonCode: 0x95 });
  });

  it('closes a socket that never sends CONNECT', async () => {
    const started = await startBroker({ limits: { connectTimeout: '200ms' } });
    broker = started.broker;
    const s = await rawSocket(started.port);
    const t0 = Date.now();
    await untilClosed(s);
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('a second connection with the same client id takes over the first (0x8E on MQTT 5)', async () => {
    const started = await startBroker();
    broker = started.broker;
    const first = await connectClient(started.url, { protocolVersion: 5, clientId: 'same' });
    const reason = new Promise<number | undefined>((resolve) => first.once('disconnect', (p) => resolve(p.reasonCode)));
    await connectClient(started.url, { protocolVersion: 5, clientId: 'same' });
    expect(await reason).toBe(0x8e);
    expect(broker.clientCount).toBe(1);
  });

  it('close() leaves no client connected and rejects new sockets', async () => {
    const started = await startBroker();
    const c = await connectClient(started.url, { clientId: 'x' });
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    await started.broker.close();
    await closed;
    await expect(rawSocket(started.port)).rejects.toThrow();
  });

  it('close() leaves no timer behind: keep alive, session expiry, delayed will, $SYS', async () => {
    const clock = new ManualClock(Date.now());
    const started = await startBroker({ sysInterval: '1s' }, { clock });
    const persistent = { protocolVersion: 5 as const, clean: false, keepalive: 30, properties: { sessionExpiryInterval: 600 } };
    await connectClient(started.url, { ...persistent, clientId: 'live' });
    const gone = await connectClient(started.url, { ...persistent, clientId: 'gone', will: { topic: 'w', payload: Buffer.from('x'), qos: 0, retain: false, properties: { willDelayInterval: 60 } } });
    (gone as unknown as { stream: { destroy(): void } }).stream.destroy();
    await sleep(50);
    expect(clock.timerCount).toBeGreaterThanOrEqual(4);
    await started.broker.close();
    expect(clock.timerCount).toBe(0);
  });
});
