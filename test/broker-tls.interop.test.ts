// TLS listeners with a CA made in the test (openssl): mqtt.js and mosquitto clients, and a
// client certificate's CN used as the identity for ACLs.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Broker } from '../src/broker/index.js';
import { closeClients, collect, connectClient, startBroker } from './helpers/broker.js';
import { killAll, run } from './helpers/processes.js';
import { makeTlsFiles } from './helpers/tls-fixture.js';

const brokers: Broker[] = [];
afterEach(async () => {
  killAll();
  await closeClients();
  await Promise.all(brokers.splice(0).map((b) => b.close()));
});

const tlsFiles = makeTlsFiles();

async function startTls(tls: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const s = await startBroker({ listeners: [{ host: '127.0.0.1', port: 0, protocol: 'mqtts', tls: { cert: tlsFiles.serverCert, key: tlsFiles.serverKey, ...tls } }], ...extra });
  brokers.push(s.broker);
  return s;
}

describe('TLS listener', () => {
  it('serves mqtt.js and mosquitto clients that trust the test CA', async () => {
    const { port } = await startTls({});
    const ca = readFileSync(tlsFiles.caCert);
    const sub = await connectClient(`mqtts://127.0.0.1:${port}`, { clientId: 'tls-sub', ca, protocolVersion: 5 });
    await sub.subscribeAsync('secure/#', { qos: 1 });
    const p = run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '--cafile', tlsFiles.caCert, '-V', 'mqttv5', '-q', '1', '-t', 'secure/a', '-m', 'over tls']);
    expect(await p.exited()).toBe(0);
    const [m] = await collect(sub).next(1);
    expect(m!.payload.toString()).toBe('over tls');
    // A client that does not trust the CA refuses the server.
    const untrusting = run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '--capath', '/nonexistent-ca-dir', '-t', 'x', '-m', 'y']);
    expect(await untrusting.exited()).not.toBe(0);
  });

  it('requires a client certificate and uses its CN as the username for ACLs', async () => {
    const { port, broker } = await startTls(
      { ca: tlsFiles.caCert, requireClientCert: true, identityFromCert: true },
      { acls: [{ user: 'hmi-1', topic: 'hmi/%u/#', access: 'readwrite' }] },
    );
    const heard: string[] = [];
    broker.subscribe('#', (m) => heard.push(m.topic));
    const base = ['-h', '127.0.0.1', '-p', String(port), '--cafile', tlsFiles.caCert, '-q', '1'];
    const withCert = [...base, '--cert', tlsFiles.clientCert, '--key', tlsFiles.clientKey];
    expect(await run('mosquitto_pub', [...withCert, '-t', 'hmi/hmi-1/status', '-m', 'allowed']).exited()).toBe(0);
    expect(await run('mosquitto_pub', [...withCert, '-t', 'hmi/other/status', '-m', 'denied']).exited()).toBe(0);
    const noCert = run('mosquitto_pub', [...base, '-t', 'hmi/hmi-1/status', '-m', 'no cert']);
    expect(await noCert.exited()).not.toBe(0);
    expect(heard).toEqual(['hmi/hmi-1/status']);
  });

  it('serves MQTT over wss:// with the same TLS material', async () => {
    const s = await startBroker({ listeners: [{ host: '127.0.0.1', port: 0, protocol: 'wss', tls: { cert: tlsFiles.serverCert, key: tlsFiles.serverKey } }] });
    brokers.push(s.broker);
    const port = s.broker.addresses()[0]!.port;
    const ca = readFileSync(tlsFiles.caCert);
    const c = await connectClient(`wss://127.0.0.1:${port}/mqtt`, { clientId: 'wss', ca, protocolVersion: 5 });
    await c.subscribeAsync('wss/#', { qos: 1 });
    await c.publishAsync('wss/echo', 'secure socket', { qos: 1 });
    const [m] = await collect(c).next(1);
    expect(m!.payload.toString()).toBe('secure socket');
    await expect(connectClient(`wss://127.0.0.1:${port}/mqtt`, { clientId: 'untrusting', connectTimeout: 2000 })).rejects.toThrow();
  });
});
