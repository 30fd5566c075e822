// Issue 18 items 1 and 6: hostile WebSocket clients. A refused socket whose first frame is bad
// must not kill the process; RFC 6455 MUSTs hold (control frames, continuation, close codes,
// UTF-8, keys); cross-origin pages cannot reach an anonymous listener; frames are bounded by
// maxPacketSize; an upgrade that never completes is closed within connectTimeout.
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { connectClient, sleep, useBroker } from '../../test/helpers/broker.js';
import { clientFrame, closeCode, wsHandshake } from '../../test/helpers/ws-raw.js';
import type { Broker } from './index.js';

let broker: Broker | undefined;
const startBroker = useBroker();

async function startWs(extra: Record<string, unknown> = {}, limits: Record<string, unknown> = {}) {
  const s = await startBroker({ listeners: [{ host: '127.0.0.1', port: 0 }, { host: '127.0.0.1', port: 0, protocol: 'ws', path: '/mqtt', ...extra }], limits });
  broker = s.broker;
  return { ...s, wsPort: s.broker.addresses()[1]!.port };
}

const connect = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'wsc', clean: true, keepalive: 30 });

describe('WebSocket hardening (issue 18)', () => {
  it('a refused upgrade whose first frame is bad does not crash the process', async () => {
    const errors: Error[] = [];
    const onError = (err: Error) => errors.push(err);
    process.on('uncaughtException', onError);
    try {
      const { wsPort, url } = await startWs({}, { connectionsPerSecondPerAddress: 1 });
      const bad = clientFrame(0x2, Buffer.from([1, 2, 3]), { mask: false }); // unmasked: a protocol error
      const attempts = await Promise.all(Array.from({ length: 5 }, () => wsHandshake(wsPort, { head: bad }).catch(() => undefined)));
      await sleep(200);
      for (const a of attempts) a?.s.destroy();
      expect(errors).toEqual([]);
      await sleep(1100); // the rate bucket refills
      const c = await connectClient(url, { clientId: 'alive' });
      expect(c.connected).toBe(true);
    } finally {
      process.off('uncaughtException', onError);
    }
  });

  it('refuses every RFC 6455 edge case with 1002/1007, never echoing an invalid close code', async () => {
    const { wsPort } = await startWs();
    const invalidClose = (code: number) => {
      const b = Buffer.alloc(2);
      b.writeUInt16BE(code, 0);
      return clientFrame(0x8, b);
    };
    const cases: Array<[string, Buffer, number[]]> = [
      ['fragmented ping', clientFrame(0x9, Buffer.from('x'), { fin: false }), [1002]],
      ['126-byte ping', clientFrame(0x9, Buffer.alloc(126)), [1002]],
      ['stray continuation', clientFrame(0x0, Buffer.from([0xc0, 0])), [1002]],
      ['reserved bits', clientFrame(0x2, Buffer.from([0xc0, 0]), { rsv: 4 }), [1002]],
      ['invalid UTF-8 text', clientFrame(0x1, Buffer.from([0xff, 0xfe])), [1007]],
      ['reserved opcode', clientFrame(0x3, Buffer.from('x')), [1002]],
      ['unmasked frame', clientFrame(0x2, Buffer.from([0xc0, 0]), { mask: false }), [1002]],
      ...[0, 999, 1005, 1006, 5000].map((c): [string, Buffer, number[]] => [`close code ${c}`, invalidClose(c), [1002]]),
    ];
    for (const [name, frame, codes] of cases) {
      const ws = await wsHandshake(wsPort);
      expect(ws.response, name).toMatch(/^HTTP\/1\.1 101/);
      ws.s.write(frame);
      await Promise.race([ws.closed, sleep(3000)]);
      const code = closeCode(Buffer.concat(ws.rest));
      expect({ name, code }).toEqual({ name, code: expect.toSatisfy((c: number | undefined) => c !== undefined && codes.includes(c)) });
      ws.s.destroy();
    }
    // A key that is not 16 base64 bytes is a bad handshake.
    expect((await wsHandshake(wsPort, { key: 'short' })).response).toMatch(/^HTTP\/1\.1 400/);
  });

  it('refuses cross-origin pages on an anonymous listener by default, and honours an allow-list', async () => {
    const { wsPort } = await startWs();
    expect((await wsHandshake(wsPort, { origin: 'http://evil.example', host: `127.0.0.1:${wsPort}` })).response).toMatch(/^HTTP\/1\.1 403/);
    expect((await wsHandshake(wsPort, { origin: `http://127.0.0.1:${wsPort}`, host: `127.0.0.1:${wsPort}` })).response).toMatch(/^HTTP\/1\.1 101/);
    expect((await wsHandshake(wsPort)).response).toMatch(/^HTTP\/1\.1 101/); // no Origin: not a browser
    await broker!.close();
    const listed = await startWs({ allowedOrigins: ['https://hmi.site.local'] });
    expect((await wsHandshake(listed.wsPort, { origin: 'https://hmi.site.local' })).response).toMatch(/^HTTP\/1\.1 101/);
    expect((await wsHandshake(listed.wsPort, { origin: 'http://evil.example' })).response).toMatch(/^HTTP\/1\.1 403/);
  });

  it('closes a frame larger than maxPacketSize with 1009', async () => {
    const { wsPort } = await startWs({}, { maxPacketSize: '1KiB' });
    const ws = await wsHandshake(wsPort);
    ws.s.write(clientFrame(0x2, connect));
    ws.s.write(clientFrame(0x2, Buffer.alloc(4096)));
    await Promise.race([ws.closed, sleep(3000)]);
    expect(closeCode(Buffer.concat(ws.rest))).toBe(1009);
  });

  it('closes an upgrade that never completes within connectTimeout', async () => {
    const { wsPort } = await startWs({}, { connectTimeout: '500ms' });
    const net = await import('node:net');
    const s = net.connect(wsPort, '127.0.0.1');
    s.on('error', () => undefined);
    const closed = new Promise<number>((r) => s.once('close', () => r(Date.now())));
    await new Promise((r) => s.once('connect', r));
    const t0 = Date.now();
    s.write('GET /mqtt HTTP/1.1\r\nHost: x\r\n'); // headers never finish
    const t1 = await Promise.race([closed, sleep(5000).then(() => 0)]);
    expect(t1).toBeGreaterThan(0);
    expect(t1 - t0).toBeLessThan(2000);
  });
});
