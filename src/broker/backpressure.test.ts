import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { connectClient, rawSocket, sleep, useBroker } from '../../test/helpers/broker.js';
import { MetricsRegistry } from '../observe/metrics.js';
import type { Broker } from './index.js';

let broker: Broker | undefined;
const startBroker = useBroker();

describe('publisher backpressure', () => {
  it('stops reading a publisher while its subscriber is congested, then delivers everything', async () => {
    const metrics = new MetricsRegistry();
    const s = await startBroker({ limits: { maxInflight: 5, maxQueued: 20 } }, { metrics });
    broker = s.broker;
    const sub = await rawSocket(s.port);
    const parser = mqttPacket.parser();
    const ids: number[] = [];
    const payloads: string[] = [];
    parser.on('packet', (p) => {
      if (p.cmd === 'publish') {
        ids.push(p.messageId!);
        payloads.push(p.payload.toString());
      }
    });
    sub.on('data', (d: Buffer) => parser.parse(d));
    sub.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'slow', clean: true, keepalive: 30 }));
    sub.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'bp', qos: 1 }] }));
    await sleep(50);

    const pub = await connectClient(s.url, { clientId: 'fast' });
    const all = Promise.all(Array.from({ length: 100 }, (_, i) => pub.publishAsync('bp', String(i), { qos: 1 })));
    await sleep(200);
    const routed = () => Number(/fieldgate_broker_messages_in_total (\d+)/.exec(metrics.render())?.[1]);
    // 5 in flight + 10 queued reach the high-water mark; the publisher is not read further.
    expect(routed()).toBeLessThan(40);
    expect(ids.length).toBe(5);

    // The subscriber catches up: acks free the window, the queue drains, the publisher resumes.
    for (let round = 0; round < 200 && payloads.length < 100; round++) {
      const unacked = ids.splice(0);
      for (const id of unacked) sub.write(mqttPacket.generate({ cmd: 'puback', messageId: id }));
      await sleep(10);
    }
    await all;
    expect(payloads).toEqual(Array.from({ length: 100 }, (_, i) => String(i)));
    expect(metrics.render()).not.toMatch(/fieldgate_broker_messages_dropped_total\{reason="queue-full"\}/);
    sub.destroy();
  });
});
