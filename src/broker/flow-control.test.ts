// Issue 12 item 5: an MQTT 3.1.1 client cannot know the broker's Receive Maximum, so a burst
// of QoS 2 beyond it is slowed, never refused; MQTT 5 keeps 0x93. Every close is logged once.
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { collect, connectClient, rawSocket, untilClosed, useBroker } from '../../test/helpers/broker.js';
import { captureLogger } from '../../test/helpers/log-capture.js';
import { until } from '../../test/helpers/until.js';
import type { Broker } from './index.js';

let broker: Broker | undefined;
const startBroker = useBroker();

describe('broker flow control (issue 12)', () => {
  it('500 QoS 2 messages from a 3.1.1 client arrive exactly once without a disconnect', async () => {
    const { logger, lines } = captureLogger();
    const s = await startBroker({}, { logger });
    broker = s.broker;
    const sub = await connectClient(s.url, { clientId: 'sub', protocolVersion: 4 });
    await sub.subscribeAsync('burst/#', { qos: 2 });
    const inbox = collect(sub);
    const pub = await connectClient(s.url, { clientId: 'pub311', protocolVersion: 4 });
    let closed = false;
    const closedEarly = new Promise<never>((_, reject) => pub.once('close', () => { closed = true; reject(new Error('the broker closed the 3.1.1 publisher')); }));
    await Promise.race([Promise.all(Array.from({ length: 500 }, (_, i) => pub.publishAsync(`burst/${i}`, String(i), { qos: 2 }))), closedEarly]);
    await inbox.next(500, 20_000);
    await new Promise((r) => setTimeout(r, 200));
    expect(closed).toBe(false);
    const payloads = inbox.got.map((m) => m.payload.toString());
    expect(payloads).toHaveLength(500);
    expect(new Set(payloads).size).toBe(500);
    expect(lines.filter((l) => l.clientId === 'pub311' && /clos/.test(l.msg))).toEqual([]);
  }, 30_000);

  it('an MQTT 5 client over Receive Maximum still gets 0x93, and the close is logged once at warn', async () => {
    const { logger, lines } = captureLogger();
    const s = await startBroker({ limits: { maxInflight: 5 } }, { logger });
    broker = s.broker;
    const sock = await rawSocket(s.port);
    const closedP = untilClosed(sock, 5000);
    sock.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'v5burst', clean: true, keepalive: 30 }));
    for (let id = 1; id <= 6; id++) sock.write(mqttPacket.generate({ cmd: 'publish', topic: 't', payload: 'x', qos: 2, messageId: id, retain: false, dup: false }, { protocolVersion: 5 }));
    const bytes = await closedP;
    const got: mqttPacket.Packet[] = [];
    const parser = mqttPacket.parser({ protocolVersion: 5 });
    parser.on('packet', (p) => got.push(p));
    parser.parse(bytes);
    expect(got.find((p) => p.cmd === 'disconnect')).toMatchObject({ reasonCode: 0x93 });
    await until(() => lines.some((l) => l.clientId === 'v5burst' && l.reason !== undefined), 3000, 'close log');
    const closes = lines.filter((l) => l.clientId === 'v5burst' && typeof l.reason === 'string');
    expect(closes).toHaveLength(1);
    expect(closes[0]!.level).toBe(40);
  });

  it('a normal DISCONNECT is logged once at debug with the client id and reason', async () => {
    const { logger, lines } = captureLogger();
    const s = await startBroker({}, { logger });
    broker = s.broker;
    const c = await connectClient(s.url, { clientId: 'polite' });
    await c.endAsync();
    await until(() => lines.some((l) => l.clientId === 'polite' && typeof l.reason === 'string'), 3000, 'close log');
    await new Promise((r) => setTimeout(r, 100));
    const closes = lines.filter((l) => l.clientId === 'polite' && typeof l.reason === 'string');
    expect(closes).toHaveLength(1);
    expect(closes[0]!.level).toBe(20);
  });
});
