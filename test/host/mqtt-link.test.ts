// The host's own MQTT client (src/host/mqtt-link.ts, issue 14): what the host needs of it,
// against real brokers: aedes over TCP, TLS, WebSocket and secure WebSocket with a password,
// Mosquitto on MQTT 5 (user properties, held PUBACKs redelivered, the Will on a lost
// connection), and the failures that must end a connection with an FG_ERR_ code and a
// reconnect: a packet above the size limit, a broker that stops answering PINGREQ.
import { readFileSync } from 'node:fs';
import net, { type AddressInfo, type Socket } from 'node:net';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { FrameSplitter, readPublish, writePublish } from '../../src/host/mqtt-frames.js';
import { MqttLink, type LinkEvents, type LinkOptions } from '../../src/host/mqtt-link.js';
import { AedesUpstream, type Transport } from '../helpers/aedes-upstream.js';
import { useCleanups } from '../helpers/cleanups.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { listenLoopback, tieSockets } from '../helpers/ports.js';
import { makeTlsFiles } from '../helpers/tls-fixture.js';
import { until } from '../helpers/until.js';

interface Seen {
  connects: number;
  closes: number;
  errors: Array<{ code: string; message: string }>;
  messages: Array<{ topic: string; payload: string; props: Record<string, string | string[]> | undefined; messageId: number | undefined }>;
}

function link(cleanups: Array<() => unknown>, opts: Partial<LinkOptions> & { url: string }): { link: MqttLink; seen: Seen } {
  const seen: Seen = { connects: 0, closes: 0, errors: [], messages: [] };
  const events: LinkEvents = {
    connect: () => void (seen.connects += 1),
    close: () => void (seen.closes += 1),
    error: (code, message) => void seen.errors.push({ code, message }),
    message: (topic, payload, props, messageId) => void seen.messages.push({ topic, payload: payload.toString(), props, messageId }),
  };
  const l = new MqttLink(
    {
      protocolVersion: 4,
      clientId: `link-${Math.random().toString(36).slice(2)}`,
      keepaliveSec: 30,
      clean: true,
      sessionExpirySec: 0,
      connectTimeoutMs: 5000,
      maxPacketSize: 1 << 20,
      will: () => ({ topic: 'spBv1.0/STATE/link', payload: Buffer.from('{"online":false}'), qos: 1, retain: true }),
      ...opts,
    },
    events,
  );
  cleanups.push(() => l.end());
  return { link: l, seen };
}

async function publisher(cleanups: Array<() => unknown>, url: string, options: mqtt.IClientOptions = {}): Promise<mqtt.MqttClient> {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, ...options });
  cleanups.push(() => c.endAsync(true));
  return c;
}

describe('host MQTT frames', () => {
  const packets = [
    mqttPacket.generate({ cmd: 'publish', topic: 'spBv1.0/g/NDATA/n', payload: Buffer.alloc(300, 7), qos: 1, messageId: 9, dup: false, retain: false, properties: { userProperties: { 'fg-dedup': 'g/n/e/1' }, messageExpiryInterval: 5 } }, { protocolVersion: 5 }),
    mqttPacket.generate({ cmd: 'puback', messageId: 3 }, { protocolVersion: 5 }),
    mqttPacket.generate({ cmd: 'publish', topic: 't', payload: Buffer.alloc(20_000, 1), qos: 0, dup: false, retain: true }, { protocolVersion: 5 }),
  ];
  const wire = Buffer.concat(packets);

  it.each([1, 2, 7, 100, 4096, wire.length])('splits a stream fed %i bytes at a time into the same packets', (step) => {
    const f = new FrameSplitter(1 << 20);
    const out: Buffer[] = [];
    for (let i = 0; i < wire.length; i += step) expect(f.push(wire.subarray(i, i + step), (fr) => (out.push(Buffer.from(fr)), true))).toBeUndefined();
    expect(out).toEqual(packets);
  });

  it('refuses a packet above the limit from its header, and a length past four bytes', () => {
    expect(new FrameSplitter(1000).push(packets[2]!.subarray(0, 6), () => true)).toBe('too-large');
    expect(new FrameSplitter(1000).push(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), () => true)).toBe('malformed-length');
  });

  it.each([4, 5])('writes a PUBLISH as mqtt-packet does (MQTT %i)', (protocolVersion) => {
    for (const [qos, retain] of [[1, true], [0, false]] as const) {
      const payload = Buffer.from('{"epoch":"e1","through":7}');
      const p = { cmd: 'publish' as const, topic: 'fieldgate/ack/g/n', payload, qos, retain, dup: false, ...(qos === 1 ? { messageId: 517 } : {}) };
      expect(writePublish(p.topic, payload, qos, retain, 517, protocolVersion)).toEqual(mqttPacket.generate(p, { protocolVersion }));
    }
  });

  it('reads a PUBLISH as mqtt-packet does, and leaves what it does not know to it', () => {
    expect(readPublish(packets[0]!, 5)).toEqual({ topic: 'spBv1.0/g/NDATA/n', payload: Buffer.alloc(300, 7), qos: 1, messageId: 9, userProperties: { 'fg-dedup': 'g/n/e/1' } });
    const qos2 = mqttPacket.generate({ cmd: 'publish', topic: 't', payload: 'x', qos: 2, messageId: 1, dup: false, retain: false });
    expect(readPublish(qos2, 4)).toBeUndefined();
  });
});

describe('host MQTT link', () => {
  const cleanups = useCleanups({ ignoreErrors: true });

  it.each<Transport>(['tcp', 'tls', 'ws', 'wss'])('over %s with a password: subscribes, QoS 1 both ways; a wrong password is refused without showing it', async (transport) => {
    const files = transport === 'tls' || transport === 'wss' ? makeTlsFiles() : undefined;
    const broker = await AedesUpstream.start(
      { authenticate: (_c, user, pass, cb) => cb(null, user === 'host' && pass?.toString() === 's3cret-pw') },
      { transport, ...(files !== undefined ? { tls: { key: readFileSync(files.serverKey), cert: readFileSync(files.serverCert) } } : {}) },
    );
    cleanups.push(() => broker.close());
    const tls = files !== undefined ? { ca: readFileSync(files.caCert), rejectUnauthorized: true } : undefined;
    const { link: l, seen } = link(cleanups, { url: broker.url, username: 'host', password: 's3cret-pw', tls });
    await until(() => l.connected, 10_000, 'connected');
    await l.subscribe(['spBv1.0/#']);
    const pub = await publisher(cleanups, broker.url, { username: 'host', password: 's3cret-pw', ...(tls !== undefined ? { ca: tls.ca } : {}) });
    await pub.publishAsync('spBv1.0/g/NDATA/n', 'hello', { qos: 1 });
    await until(() => seen.messages.length === 1, 5000, 'message');
    expect(seen.messages[0]).toMatchObject({ topic: 'spBv1.0/g/NDATA/n', payload: 'hello' });
    expect(seen.messages[0]?.messageId).toBeGreaterThan(0);
    l.ack(l.generation, [seen.messages[0]?.messageId as number]);
    await l.publish('fieldgate/ack/g/n', Buffer.from('{"through":1}'), 1, true);
    expect(broker.received.some((r) => r.topic === 'fieldgate/ack/g/n' && r.qos === 1)).toBe(true);

    const bad = link(cleanups, { url: broker.url, username: 'host', password: 'wrong-pw', tls });
    await until(() => bad.seen.errors.some((e) => e.code === 'FG_ERR_UPSTREAM_CONNECT' && /refused/.test(e.message)), 10_000, 'refusal');
    expect(bad.link.connected).toBe(false);
    expect(JSON.stringify(bad.seen.errors)).not.toContain('wrong-pw');
  }, 30_000);

  it('MQTT 5 on Mosquitto: user properties; an unacknowledged message comes again after a reconnect; the Will goes out on a lost connection', async () => {
    const broker = await Mosquitto.start();
    cleanups.push(() => broker.close());
    // A proxy whose sockets the test cuts: a lost connection, as the broker sees it.
    const cut: Socket[] = [];
    const proxy = net.createServer((client) => {
      const up = net.connect(broker.port, '127.0.0.1');
      client.pipe(up);
      up.pipe(client);
      tieSockets(client, up);
      cut.push(client);
    });
    const port = await listenLoopback(proxy);
    cleanups.push(() => new Promise((r) => proxy.close(r)));
    const watcher = await publisher(cleanups, broker.url, { protocolVersion: 5 });
    const wills: string[] = [];
    watcher.on('message', (topic, payload) => topic === 'spBv1.0/STATE/link' && wills.push(payload.toString()));
    await watcher.subscribeAsync('spBv1.0/STATE/link', { qos: 1 });

    const { link: l, seen } = link(cleanups, { url: `mqtt://127.0.0.1:${port}`, protocolVersion: 5, clean: false, sessionExpirySec: 600, clientId: 'link-v5' });
    await until(() => l.connected, 10_000, 'connected');
    await l.subscribe(['spBv1.0/#']);
    await watcher.publishAsync('spBv1.0/g/NDATA/n', 'one', { qos: 1, properties: { userProperties: { 'fg-dedup': 'g/n/e1/7', a: ['x', 'y'] } } });
    await until(() => seen.messages.length === 1, 5000, 'message');
    expect(seen.messages[0]?.props).toEqual({ 'fg-dedup': 'g/n/e1/7', a: ['x', 'y'] });

    // Not acknowledged, then the connection is lost: the Will, and the message again.
    for (const s of cut) s.destroy();
    await until(() => wills.includes('{"online":false}'), 10_000, 'Will published');
    const data = () => seen.messages.filter((m) => m.topic === 'spBv1.0/g/NDATA/n');
    await until(() => seen.connects === 2 && data().length === 2, 10_000, 'redelivered after reconnect');
    expect(seen.closes).toBe(1);
    expect(data()[1]).toMatchObject({ payload: 'one' });
    // An ack of the first connection is void on the second; this one's ack ends the redelivery.
    l.ack(l.generation - 1, [data()[0]?.messageId as number]);
    l.ack(l.generation, [data()[1]?.messageId as number]);
    await l.publish('spBv1.0/g/NCMD/n', Buffer.from('x'), 1, false);
    for (const s of cut) s.destroy();
    await until(() => seen.connects === 3, 10_000, 'third connection');
    await new Promise((r) => setTimeout(r, 300));
    expect(data()).toHaveLength(2);
  }, 40_000);

  it('a packet above the size limit ends the connection with FG_ERR_UPSTREAM_PROTOCOL, then it reconnects', async () => {
    const broker = await Mosquitto.start();
    cleanups.push(() => broker.close());
    const { link: l, seen } = link(cleanups, { url: broker.url, maxPacketSize: 1024 });
    await until(() => l.connected, 10_000, 'connected');
    await l.subscribe(['big/#']);
    const pub = await publisher(cleanups, broker.url);
    await pub.publishAsync('big/one', Buffer.alloc(4096, 1), { qos: 0 });
    await until(() => seen.errors.some((e) => e.code === 'FG_ERR_UPSTREAM_PROTOCOL' && /exceeds 1024 bytes/.test(e.message)), 5000, 'too large');
    await until(() => seen.connects === 2, 10_000, 'reconnected');
    expect(seen.messages).toHaveLength(0);
  }, 20_000);

  it('a broker that stops answering PINGREQ: FG_ERR_UPSTREAM_TIMEOUT, then a reconnect', async () => {
    let connections = 0;
    const server = net.createServer((sock) => {
      connections += 1;
      const parser = mqttPacket.parser({ protocolVersion: 4 });
      // CONNACK, then silence: no PINGRESP ever.
      parser.on('packet', (p) => p.cmd === 'connect' && sock.write(mqttPacket.generate({ cmd: 'connack', returnCode: 0, sessionPresent: false })));
      sock.on('data', (d) => parser.parse(d));
      sock.on('error', () => undefined);
      cleanups.push(() => sock.destroy());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise((r) => server.close(r)));
    const { seen } = link(cleanups, { url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`, keepaliveSec: 1 });
    await until(() => seen.errors.some((e) => e.code === 'FG_ERR_UPSTREAM_TIMEOUT'), 8000, 'keepalive timeout');
    await until(() => connections >= 2 && seen.connects >= 2, 8000, 'reconnected');
  }, 20_000);
});
