import net from 'node:net';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { collect, connectClient, useBroker } from '../../test/helpers/broker.js';
import { clientFrame, wsHandshake } from '../../test/helpers/ws-raw.js';
import type { Broker } from './index.js';

let broker: Broker | undefined;
const startBroker = useBroker();

async function startWs() {
  const s = await startBroker({ listeners: [{ host: '127.0.0.1', port: 0 }, { host: '127.0.0.1', port: 0, protocol: 'ws', path: '/mqtt' }] });
  broker = s.broker;
  return { ...s, wsPort: s.broker.addresses()[1]!.port };
}

describe('WebSocket listener', () => {
  it('carries MQTT for mqtt.js (3.1.1 and 5) alongside TCP clients', async () => {
    const { url, wsPort } = await startWs();
    const tcp = await connectClient(url, { clientId: 'tcp' });
    await tcp.subscribeAsync('ws/#', { qos: 1 });
    const ws4 = await connectClient(`ws://127.0.0.1:${wsPort}/mqtt`, { clientId: 'ws4' });
    const ws5 = await connectClient(`ws://127.0.0.1:${wsPort}/mqtt`, { clientId: 'ws5', protocolVersion: 5 });
    await ws5.subscribeAsync('back', { qos: 2 });
    await ws4.publishAsync('ws/a', Buffer.alloc(70_000, 1), { qos: 1 }); // spans several TCP reads and a 64-bit frame length
    await tcp.publishAsync('back', 'to ws', { qos: 2 });
    const [m] = await collect(tcp).next(1);
    expect(m!.payload.length).toBe(70_000);
    const [b] = await collect(ws5).next(1);
    expect(b!.payload.toString()).toBe('to ws');
  });

  it('selects the mqtt subprotocol, answers pings, and joins a packet split across frames', async () => {
    const { wsPort } = await startWs();
    const { s, response, rest } = await wsHandshake(wsPort);
    expect(response).toMatch(/^HTTP\/1\.1 101/);
    expect(response).toMatch(/Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/); // RFC 6455 §1.3 example
    expect(response).toMatch(/Sec-WebSocket-Protocol: mqtt/);
    const connect = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'frames', clean: true, keepalive: 30 });
    s.write(clientFrame(0x2, connect.subarray(0, 5), { fin: false }));
    s.write(clientFrame(0x0, connect.subarray(5)));
    s.write(clientFrame(0x9, Buffer.from('hi')));
    await new Promise((r) => setTimeout(r, 100));
    const bytes = Buffer.concat(rest);
    // A binary frame holding CONNACK (20 02 00 00) and a PONG "hi", in either order: the PING
    // is answered by the WebSocket layer while CONNECT waits for its credential check.
    const frames = [bytes.subarray(0, 2 + (bytes[1] as number)), bytes.subarray(2 + (bytes[1] as number))].map((f) => [...f].join(','));
    expect(frames.sort()).toEqual(['130,4,32,2,0,0', '138,2,104,105']);
    s.destroy();
  });

  it('refuses a wrong path, a missing subprotocol, text frames and unmasked frames, one connection at a time', async () => {
    const { wsPort, url } = await startWs();
    const good = await connectClient(url, { clientId: 'good' });
    expect((await wsHandshake(wsPort, { path: '/other' })).response).toMatch(/^HTTP\/1\.1 404/);
    expect((await wsHandshake(wsPort, { protocol: 'chat' })).response).toMatch(/^HTTP\/1\.1 400/);
    for (const bad of [clientFrame(0x1, Buffer.from('text')), clientFrame(0x2, Buffer.from([0xc0, 0]), { mask: false })]) {
      const { s } = await wsHandshake(wsPort);
      s.write(bad);
      await new Promise((r) => s.once('close', r));
    }
    await good.publishAsync('still', 'fine', { qos: 1 });
  });

  it('close() does not wait for an idle HTTP keep-alive connection', async () => {
    const { wsPort } = await startWs();
    const s = net.connect(wsPort, '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    s.write('GET /mqtt HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    await new Promise((r) => s.once('data', r)); // 426 Upgrade Required, socket kept alive
    const t0 = Date.now();
    await broker!.close();
    broker = undefined;
    expect(Date.now() - t0).toBeLessThan(1000);
    s.destroy();
  });
});
