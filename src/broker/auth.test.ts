import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collect, connectClient, connectWithAck, sleep, useBroker } from '../../test/helpers/broker.js';
import { MetricsRegistry } from '../observe/metrics.js';
import { Broker, hashPassword, verifyPassword } from './index.js';
import { brokerSchema } from '../config/sections/broker.js';
import { isLoopback } from './listener.js';
import { Acl } from './acl.js';

const start = useBroker();

// Cheap cost parameters keep the suite fast; the default cost is exercised once below.
const FAST = { N: 1024, r: 8, p: 1 };

describe('passwords', () => {
  it('hashPassword makes salted scrypt hashes that verify only with the right password', async () => {
    const a = await hashPassword('s3cret');
    const b = await hashPassword('s3cret');
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('s3cret');
    expect(await verifyPassword('s3cret', a)).toBe(true);
    expect(await verifyPassword('s3cret!', a)).toBe(false);
    expect(await verifyPassword('s3cret', 'scrypt$garbage')).toBe(false);
  });

  it('accepts configured users and users from a password file; refuses wrong passwords and anonymous on a closed listener', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-broker-'));
    const file = join(dir, 'passwd');
    writeFileSync(file, `# site users\nbob:${await hashPassword('bobpw', FAST)}\n`);
    const metrics = new MetricsRegistry();
    const { url } = await start({ listeners: [{ host: '127.0.0.1', port: 0, allowAnonymous: false }], users: [{ username: 'alice', passwordHash: await hashPassword('alicepw', FAST) }], passwordFile: file }, { metrics });
    await connectClient(url, { clientId: 'a', username: 'alice', password: 'alicepw' });
    await connectClient(url, { clientId: 'b', username: 'bob', password: 'bobpw', protocolVersion: 5 });
    await expect(connectClient(url, { clientId: 'x', username: 'alice', password: 'wrong' })).rejects.toThrow(/[Bb]ad username or password/);
    await expect(connectClient(url, { clientId: 'y', protocolVersion: 5, username: 'mallory', password: 'x' })).rejects.toThrow(/[Bb]ad [Uu]ser [Nn]ame or [Pp]assword/);
    await expect(connectClient(url, { clientId: 'z' })).rejects.toThrow(/[Nn]ot authorized/);
    expect(metrics.render()).toMatch(/fieldgate_broker_auth_failures_total 3/);
  });

  it('refuses to start on an unreadable or malformed password file, naming the line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-broker-'));
    const bad = join(dir, 'passwd');
    writeFileSync(bad, '# ok\nalice:plaintext\n');
    const config = (passwordFile: string) => brokerSchema.parse({ listeners: [{}], passwordFile });
    expect(() => new Broker(config(join(dir, 'missing')))).toThrow(expect.objectContaining({ code: 'FG_ERR_BROKER_AUTH' }));
    expect(() => new Broker(config(bad))).toThrow(/passwd:2: expected username:scrypt\$/);
  });

  it('allows anonymous clients by default only on loopback listeners', async () => {
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('0.0.0.0')).toBe(false);
    expect(isLoopback('192.168.1.10')).toBe(false);
    const { url } = await start();
    await connectClient(url, { clientId: 'anon' });
  });
});

describe('ACLs', () => {
  it('substitutes %u and %c and never lets a wildcard username widen a rule', () => {
    const acl = new Acl([
      { user: 'alice', topic: 'site/#', access: 'read' },
      { topic: 'users/%u/#', access: 'readwrite' },
      { topic: 'clients/%c/status', access: 'write' },
    ]);
    expect(acl.canSubscribe('alice', 'c1', 'site/+/temp')).toBe(true);
    expect(acl.canPublish('alice', 'c1', 'site/x')).toBe(false);
    expect(acl.canSubscribe('bob', 'c1', 'site/#')).toBe(false);
    expect(acl.canPublish('bob', 'c1', 'users/bob/x')).toBe(true);
    expect(acl.canSubscribe('bob', 'c1', 'users/+/x')).toBe(false);
    expect(acl.canPublish('bob', 'dev-7', 'clients/dev-7/status')).toBe(true);
    expect(acl.canSubscribe('bob', 'dev-7', 'clients/dev-7/status')).toBe(false);
    expect(acl.canPublish(undefined, 'c', 'users//x')).toBe(false);
    expect(acl.canPublish('#', 'c', 'users/anything/x')).toBe(false);
    expect(new Acl([]).canPublish(undefined, 'c', 'any/thing')).toBe(true);
  });

  it('denies a SUBSCRIBE with 0x80 (3.1.1) or 0x87 (5.0), and a PUBLISH silently (3.1.1) or with 0x87 (5.0)', async () => {
    const { url, broker } = await start({ acls: [{ topic: 'open/#', access: 'readwrite' }] });
    const v3 = await connectClient(url, { clientId: 'v3' });
    const v5 = await connectClient(url, { clientId: 'v5', protocolVersion: 5 });
    expect(await subackCodes(v3, ['open/a', 'secret/a'])).toEqual([1, 0x80]);
    expect(await subackCodes(v5, ['open/a', 'secret/a'])).toEqual([1, 0x87]);
    const heard: string[] = [];
    broker.subscribe('#', (m) => heard.push(m.topic));
    await v3.publishAsync('secret/x', 'no', { qos: 1 }); // acknowledged, dropped
    await expect(v5.publishAsync('secret/y', 'no', { qos: 1 })).rejects.toMatchObject({ code: 0x87 });
    await v3.publishAsync('open/ok', 'yes', { qos: 1 });
    expect(heard).toEqual(['open/ok']);
  });
});

/** mqtt.js rejects a SUBACK holding a failure code; the SUBACK rides on the error. */
async function subackCodes(client: import('mqtt').MqttClient, topics: string[]): Promise<number[]> {
  try {
    await client.subscribeAsync(topics, { qos: 1 });
    throw new Error('expected a SUBACK with a failure code');
  } catch (err) {
    return ((err as { packet?: { granted?: number[] } }).packet?.granted ?? []) as number[];
  }
}

describe('limits', () => {
  it('refuses connections beyond maxConnections with CONNACK "server unavailable" / 0x97', async () => {
    const { url } = await start({ limits: { maxConnections: 2 } });
    await connectClient(url, { clientId: 'one' });
    await connectClient(url, { clientId: 'two' });
    await expect(connectClient(url, { clientId: 'three' })).rejects.toThrow(/[Ss]erver unavailable/);
    await expect(connectClient(url, { clientId: 'four', protocolVersion: 5 })).rejects.toThrow(/[Qq]uota exceeded/);
    // Taking over an existing id is not a new connection.
    const { connack } = await connectWithAck(url, { clientId: 'two' });
    expect(connack.returnCode).toBe(0);
  });

  it('limits new connections per second from one address', async () => {
    const metrics = new MetricsRegistry();
    const { url } = await start({ limits: { connectionsPerSecondPerAddress: 3 } }, { metrics });
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map((i) => connectClient(url, { clientId: `r${i}` })));
    expect(results.filter((r) => r.status === 'fulfilled').length).toBe(3);
    expect(metrics.render()).toMatch(/fieldgate_broker_rejected_connections_total\{reason="rate"\} 2/);
  });

  it('slows a fast publisher to its publish rate without losing a message', async () => {
    const { url } = await start({ limits: { publishesPerSecondPerClient: 20 } });
    const sub = await connectClient(url, { clientId: 'sub' });
    const inbox = collect(sub);
    await sub.subscribeAsync('rate', { qos: 1 });
    const pub = await connectClient(url, { clientId: 'pub' });
    const t0 = Date.now();
    // 20 go through on the initial burst; the next 20 need about a second.
    await Promise.all(Array.from({ length: 40 }, (_, i) => pub.publishAsync('rate', String(i), { qos: 1 })));
    const got = await inbox.next(40, 5000);
    const elapsed = Date.now() - t0;
    expect(got.map((m) => Number(m.payload.toString()))).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(elapsed).toBeGreaterThanOrEqual(800);
    await sleep(0);
  });
});
