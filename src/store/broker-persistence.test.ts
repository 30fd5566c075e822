import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { describePersistence } from '../../test/contracts/broker-persistence-suite.js';
import { closeClients, collect, connectClient, connectWithAck, sleep, startBroker } from '../../test/helpers/broker.js';
import { ManualClock } from '../shared/clock.js';
import { SESSION_SAVE_INTERVAL_MS } from '../broker/core.js';
import type { Broker } from '../broker/index.js';
import { applyBrokerMigrations, SqliteBrokerPersistence } from './broker-persistence.js';

function open(path: string): SqliteBrokerPersistence {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  applyBrokerMigrations(db);
  return new SqliteBrokerPersistence(db, { ownsDatabase: true });
}

describePersistence(
  'sqlite',
  () => {
    const path = join(mkdtempSync(join(tmpdir(), 'fg-broker-db-')), 'store.db');
    return { persistence: open(path), reopen: () => open(path) };
  },
  { durable: true },
);

const brokers: Broker[] = [];
afterEach(async () => {
  await closeClients();
  await Promise.all(brokers.splice(0).map((b) => b.close()));
});

describe('broker on SQLite persistence', () => {
  it('keeps a persistent session, its queued messages and retained messages across a restart from the file', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'fg-broker-db-')), 'store.db');
    const a = await startBroker({}, { persistence: open(path) });
    brokers.push(a.broker);
    const c1 = await connectClient(a.url, { clientId: 'durable', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 3600 } });
    await c1.subscribeAsync('d/#', { qos: 2 });
    await c1.endAsync();
    a.broker.publish('d/queued', Buffer.from([0, 1, 2]), { qos: 2, properties: { userProperties: { k: 'v' }, correlationData: Buffer.from('c') } });
    a.broker.publish('d/retained', 'kept', { qos: 1, retain: true });
    await a.broker.close();
    brokers.splice(0);

    const b = await startBroker({}, { persistence: open(path) });
    brokers.push(b.broker);
    expect(b.broker.retainedCount).toBe(1);
    const { client, connack } = await connectWithAck(b.url, { clientId: 'durable', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 3600 } });
    expect(connack.sessionPresent).toBe(true);
    // mqtt.js hands a QoS 2 message over only after PUBREL, so arrival order is not asserted.
    const got = (await collect(client).next(2)).sort((x, y) => x.topic.localeCompare(y.topic));
    expect([...got[0]!.payload]).toEqual([0, 1, 2]);
    expect(got[0]!.packet.qos).toBe(2);
    expect(got[0]!.packet.properties?.userProperties).toEqual({ k: 'v' });
    expect(got[0]!.packet.properties?.correlationData?.toString()).toBe('c');
    expect(got[1]!.payload.toString()).toBe('kept');
  });

  it('after a crash (no close) keeps what was subscribed and queued up to one save interval before', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'fg-broker-db-')), 'store.db');
    const clock = new ManualClock(Date.now());
    const crashed = await startBroker({}, { persistence: open(path), clock });
    const c1 = await connectClient(crashed.url, { clientId: 'crash', clean: false });
    await c1.subscribeAsync('k/#', { qos: 1 });
    await clock.advance(SESSION_SAVE_INTERVAL_MS); // saved while the client is still connected
    (c1 as unknown as { stream: { destroy(): void } }).stream.destroy();
    await sleep(50);
    crashed.broker.publish('k/1', 'queued before the crash', { qos: 1 });
    await clock.advance(SESSION_SAVE_INTERVAL_MS);
    // The process "dies" here: a second broker opens the file while the first never closed.
    const b = await startBroker({}, { persistence: open(path) });
    brokers.push(b.broker);
    const { client, connack } = await connectWithAck(b.url, { clientId: 'crash', clean: false });
    expect(connack.sessionPresent).toBe(true);
    const [m] = await collect(client).next(1);
    expect(m!.payload.toString()).toBe('queued before the crash');
    await crashed.broker.close();
  });
});
