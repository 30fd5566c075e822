// Issue 18 item 4: idle or slow sockets on every listener (TCP, TLS before its handshake,
// WebSocket before its upgrade) are closed within connectTimeout of TCP accept, and sockets
// without CONNECT have their own cap per source address, so an idle flood from one address
// (127.0.0.2) cannot lock out logins from another (127.0.0.1).
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { closeClients, connectClient, sleep, startBroker } from '../../test/helpers/broker.js';
import { makeTlsFiles } from '../../test/helpers/tls-fixture.js';
import { openIdle } from '../../test/helpers/ports.js';
import type { Broker } from './index.js';

let broker: Broker | undefined;
const floods: net.Socket[] = [];
afterEach(async () => {
  for (const s of floods.splice(0)) s.destroy();
  await closeClients();
  await broker?.close();
  broker = undefined;
});

const idle = (port: number, localAddress = '127.0.0.1') => openIdle(port, localAddress, floods);

describe('idle sockets on every listener (issue 18)', () => {
  it('TCP, TLS and WebSocket sockets that never finish are closed within connectTimeout', async () => {
    const tls = makeTlsFiles();
    const s = await startBroker({
      listeners: [
        { host: '127.0.0.1', port: 0 },
        { host: '127.0.0.1', port: 0, protocol: 'mqtts', tls: { cert: tls.serverCert, key: tls.serverKey } },
        { host: '127.0.0.1', port: 0, protocol: 'ws' },
        { host: '127.0.0.1', port: 0, protocol: 'wss', tls: { cert: tls.serverCert, key: tls.serverKey } },
      ],
      limits: { connectTimeout: '1s' },
    });
    broker = s.broker;
    const t0 = Date.now();
    const sockets = await Promise.all(s.broker.addresses().map((a) => idle(a.port)));
    const closed = await Promise.all(sockets.map((x) => Promise.race([x.closedAt, sleep(6000).then(() => 0)])));
    for (const [i, at] of closed.entries()) {
      expect({ listener: s.broker.addresses()[i]!.protocol, closed: at > 0 }).toEqual({ listener: s.broker.addresses()[i]!.protocol, closed: true });
      expect(at - t0).toBeLessThan(3000);
    }
  });

  it('logins from 127.0.0.1 succeed during an idle-socket flood from 127.0.0.2', async () => {
    const s = await startBroker({ limits: { connectTimeout: '10s', maxConnections: 100, connectionsPerSecondPerAddress: 0 } });
    broker = s.broker;
    // Far more idle sockets than maxConnections, none sending CONNECT.
    await Promise.all(Array.from({ length: 600 }, () => idle(s.port, '127.0.0.2')));
    await sleep(100);
    for (let i = 0; i < 10; i++) {
      const c = await connectClient(s.url, { clientId: `login-${i}` });
      expect(c.connected).toBe(true);
    }
  });
});
