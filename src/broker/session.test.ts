import mqttPacket from 'mqtt-packet';
import type { IClientOptions } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { collect, connectClient, connectWithAck, rawSocket, sleep, useBroker } from '../../test/helpers/broker.js';
import { ManualClock } from '../shared/clock.js';
import { MemoryPersistence } from './index.js';
import { MetricsRegistry } from '../observe/metrics.js';

const start = useBroker();

/** A raw 3.1.1 client that records every packet and never acknowledges unless told to. */
/** A persistent session that subscribed to `filter` and went away: what these tests start from. */
async function leaveSubscribed(url: string, clientId: string, filter: string, qos: 0 | 1 | 2, opts: IClientOptions = {}): Promise<void> {
  const c = await connectClient(url, { clientId, clean: false, ...opts });
  await c.subscribeAsync(filter, { qos });
  await c.endAsync();
}

async function rawClient(port: number, clientId: string, clean: boolean) {
  const s = await rawSocket(port);
  const parser = mqttPacket.parser();
  const packets: mqttPacket.Packet[] = [];
  parser.on('packet', (p) => packets.push(p));
  s.on('data', (d: Buffer) => parser.parse(d));
  s.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId, clean, keepalive: 30 }));
  return { s, packets };
}

describe('persistent sessions', () => {
  it('keeps subscriptions and QoS 1/2 messages while a Clean Session 0 client is away (not QoS 0)', async () => {
    const { url, broker } = await start();
    await leaveSubscribed(url, 'keeper', 'k/#', 2);
    broker.publish('k/0', 'zero', { qos: 0 });
    broker.publish('k/1', 'one', { qos: 1 });
    broker.publish('k/2', 'two', { qos: 2 });
    const { client: c2, connack } = await connectWithAck(url, { clientId: 'keeper', clean: false });
    expect(connack.sessionPresent).toBe(true);
    const inbox = collect(c2);
    const got = await inbox.next(2);
    await sleep(100);
    expect(inbox.got.length).toBe(2);
    expect(got.map((m) => [m.topic, m.packet.qos])).toEqual([['k/1', 1], ['k/2', 2]]);
  });

  it('resends unacknowledged messages with DUP and the same packet id after reconnect [MQTT-4.4.0-1]', async () => {
    const { port, broker } = await start();
    const first = await rawClient(port, 'dup', false);
    first.s.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'd', qos: 1 }] }));
    await sleep(50);
    broker.publish('d', 'unacked', { qos: 1 });
    await sleep(50);
    const original = first.packets.find((p) => p.cmd === 'publish') as mqttPacket.IPublishPacket;
    expect(original.dup).toBe(false);
    first.s.destroy();
    await sleep(50);
    const second = await rawClient(port, 'dup', false);
    await sleep(100);
    const [connack, again] = second.packets as [mqttPacket.IConnackPacket, mqttPacket.IPublishPacket];
    expect(connack.sessionPresent).toBe(true);
    expect([again.cmd, again.dup, again.messageId, again.payload.toString()]).toEqual(['publish', true, original.messageId, 'unacked']);
    second.s.destroy();
  });

  it('bounds the queue per client, dropping the oldest and counting them', async () => {
    const metrics = new MetricsRegistry();
    const { url, broker } = await start({ limits: { maxQueued: 3 } }, { metrics });
    await leaveSubscribed(url, 'q', 'q', 1);
    for (let i = 0; i < 5; i++) broker.publish('q', `m${i}`, { qos: 1 });
    const c2 = await connectClient(url, { clientId: 'q', clean: false });
    const inbox = collect(c2);
    const got = await inbox.next(3);
    expect(got.map((m) => m.payload.toString())).toEqual(['m2', 'm3', 'm4']);
    expect(metrics.render()).toMatch(/fieldgate_broker_messages_dropped_total\{reason="queue-full"\} 2/);
  });

  it('survives a broker restart through its persistence: subscriptions, queue and retained', async () => {
    const persistence = new MemoryPersistence();
    const a = await start({}, { persistence });
    await leaveSubscribed(a.url, 'restart', 'r/#', 1);
    a.broker.publish('r/queued', 'while away', { qos: 1 });
    a.broker.publish('r/retained', 'kept', { qos: 1, retain: true });
    await a.broker.close();

    const b = await start({}, { persistence });
    expect(b.broker.retainedCount).toBe(1);
    b.broker.publish('r/after', 'restart', { qos: 1 }); // the restored subscription catches this too
    const { client: c2, connack } = await connectWithAck(b.url, { clientId: 'restart', clean: false });
    expect(connack.sessionPresent).toBe(true);
    const inbox = collect(c2);
    const got = await inbox.next(3);
    expect(got.map((m) => m.payload.toString())).toEqual(['while away', 'kept', 'restart']);
  });

  it('Clean Start discards the old session', async () => {
    const { url, broker } = await start();
    await leaveSubscribed(url, 'cs', 'cs', 1);
    broker.publish('cs', 'lost', { qos: 1 });
    const { client: c2, connack } = await connectWithAck(url, { clientId: 'cs', clean: true });
    expect(connack.sessionPresent).toBe(false);
    const inbox = collect(c2);
    broker.publish('cs', 'not subscribed', { qos: 1 });
    await sleep(100);
    expect(inbox.got.length).toBe(0);
  });

  it('expires an MQTT 5 session after its Session Expiry Interval', async () => {
    const clock = new ManualClock(Date.now());
    const { url, broker } = await start({}, { clock });
    await leaveSubscribed(url, 'exp', 'e', 1, { protocolVersion: 5, properties: { sessionExpiryInterval: 60 } });
    await clock.advance(59_000);
    broker.publish('e', 'in time', { qos: 1 });
    const { client: c2, connack } = await connectWithAck(url, { protocolVersion: 5, clientId: 'exp', clean: false, properties: { sessionExpiryInterval: 60 } });
    expect(connack.sessionPresent).toBe(true);
    await collect(c2).next(1);
    await c2.endAsync();
    await clock.advance(60_001);
    const { connack: third } = await connectWithAck(url, { protocolVersion: 5, clientId: 'exp', clean: false });
    expect(third.sessionPresent).toBe(false);
  });
});
