// Issue 3 "Done when": clients no one here wrote. Debian's mosquitto_pub / mosquitto_sub
// (3.1.1 and -V mqttv5) and python3-paho-mqtt against the fieldgate broker.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Broker } from '../src/broker/index.js';
import { applyBrokerMigrations, SqliteBrokerPersistence } from '../src/store/broker-persistence.js';
import { startBroker } from './helpers/broker.js';
import { killAll, run } from './helpers/processes.js';

const brokers: Broker[] = [];
afterEach(async () => {
  killAll();
  await Promise.all(brokers.splice(0).map((b) => b.close()));
});

async function start(overrides: Record<string, unknown> = {}, deps: Parameters<typeof startBroker>[1] = {}) {
  const s = await startBroker(overrides, deps);
  brokers.push(s.broker);
  return s;
}

const VERSIONS = [['mqttv311'], ['mqttv5']] as const;

function openSqlite(path: string): SqliteBrokerPersistence {
  const db = new Database(path);
  applyBrokerMigrations(db);
  return new SqliteBrokerPersistence(db, { ownsDatabase: true });
}

function sub(port: number, version: string, args: string[]) {
  return run('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-V', version, '-d', '-F', '%t %p', ...args]);
}

async function pub(port: number, version: string, args: string[]) {
  const p = run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-V', version, ...args]);
  expect(await p.exited()).toBe(0);
}

describe.each(VERSIONS)('mosquitto clients, %s', (version) => {
  it('QoS 0/1/2 delivery through + and # filters', async () => {
    const { port } = await start();
    const s = sub(port, version, ['-q', '2', '-t', 'plant/+/temp', '-t', 'alarms/#', '-C', '3']);
    await s.waitFor(/received SUBACK/);
    await pub(port, version, ['-q', '0', '-t', 'plant/l1/temp', '-m', 'q0']);
    await pub(port, version, ['-q', '1', '-t', 'alarms/a/b', '-m', 'q1']);
    await pub(port, version, ['-q', '2', '-t', 'plant/l2/temp', '-m', 'q2']);
    await pub(port, version, ['-q', '2', '-t', 'plant/l2/pressure', '-m', 'not matched']);
    expect(await s.exited()).toBe(0);
    expect(s.lines).toEqual(['plant/l1/temp q0', 'alarms/a/b q1', 'plant/l2/temp q2']);
    expect(s.all.filter((l) => /received PUBLISH/.test(l)).map((l) => /q(\d)/.exec(l)?.[1])).toEqual(['0', '1', '2']);
  });

  it('retained messages, replaced and cleared', async () => {
    const { port } = await start();
    await pub(port, version, ['-r', '-q', '1', '-t', 'cfg/a', '-m', 'old']);
    await pub(port, version, ['-r', '-q', '1', '-t', 'cfg/a', '-m', 'new']);
    await pub(port, version, ['-r', '-q', '1', '-t', 'cfg/b', '-m', 'bee']);
    await pub(port, version, ['-r', '-q', '1', '-t', 'cfg/b', '-n']);
    const s = sub(port, version, ['-q', '1', '-t', 'cfg/#', '-C', '1', '-W', '3']);
    expect(await s.exited()).toBe(0);
    expect(s.lines).toEqual(['cfg/a new']);
    expect(s.all.some((l) => /received PUBLISH \(d0, q1, r1/.test(l))).toBe(true);
  });

  it('publishes the will of a client that dies', async () => {
    const { port } = await start();
    const watcher = sub(port, version, ['-t', 'wills/#', '-C', '1']);
    await watcher.waitFor(/received SUBACK/);
    const doomed = sub(port, version, ['-t', 'nothing', '-i', 'doomed', '--will-topic', 'wills/doomed', '--will-payload', 'lost', '--will-qos', '1']);
    await doomed.waitFor(/received SUBACK/);
    doomed.child.kill('SIGKILL');
    expect(await watcher.exited()).toBe(0);
    expect(watcher.lines, watcher.all.join("\n")).toEqual(["wills/doomed lost"]);
  });

  it('keeps a persistent session across a client reconnect and across a broker restart', async () => {
    // The store's SQLite file, reopened by the second broker: a restart from disk.
    const path = join(mkdtempSync(join(tmpdir(), 'fg-broker-db-')), 'store.db');
    const a = await start({}, { persistence: openSqlite(path) });
    const first = sub(a.port, version, ['-c', '-i', 'keeper', '-q', '1', '-t', 'ps/#', '-E']);
    expect(await first.exited()).toBe(0);
    await pub(a.port, version, ['-q', '1', '-t', 'ps/1', '-m', 'while away']);
    const second = sub(a.port, version, ['-c', '-i', 'keeper', '-q', '1', '-t', 'ps/#', '-C', '1']);
    expect(await second.exited()).toBe(0);
    expect(second.lines).toEqual(['ps/1 while away']);

    await pub(a.port, version, ['-q', '1', '-t', 'ps/2', '-m', 'before restart']);
    await a.broker.close();
    brokers.splice(brokers.indexOf(a.broker), 1);
    const b = await start({ listeners: [{ host: '127.0.0.1', port: a.port }] }, { persistence: openSqlite(path) });
    const third = sub(b.port, version, ['-c', '-i', 'keeper', '-q', '1', '-t', 'ps/#', '-C', '1']);
    expect(await third.exited()).toBe(0);
    expect(third.lines).toEqual(['ps/2 before restart']);
  });

  it('ACL denial: refused subscription, dropped publish', async () => {
    const { port, broker } = await start({ acls: [{ topic: 'open/#', access: 'readwrite' }] });
    const denied = sub(port, version, ['-t', 'secret/#', '-W', '3']);
    await denied.waitFor(/received SUBACK/);
    await denied.exited();
    expect(denied.all.join('\n')).toMatch(/denied/i);
    const heard: string[] = [];
    broker.subscribe('#', (m) => heard.push(m.topic));
    await pub(port, version, ['-q', '1', '-t', 'secret/x', '-m', 'no']);
    await pub(port, version, ['-q', '1', '-t', 'open/x', '-m', 'yes']);
    expect(heard).toEqual(['open/x']);
  });
});

describe('mosquitto clients, shared subscriptions', () => {
  it('splits $share/group messages across members', async () => {
    const { port } = await start();
    const members = [0, 1].map((i) => sub(port, 'mqttv5', ['-i', `member${i}`, '-q', '1', '-t', '$share/g/jobs/#']));
    await Promise.all(members.map((m) => m.waitFor(/received SUBACK/)));
    for (let i = 0; i < 10; i++) await pub(port, 'mqttv5', ['-q', '1', '-t', `jobs/${i}`, '-m', String(i)]);
    const deadline = Date.now() + 3000;
    while (members[0]!.lines.length + members[1]!.lines.length < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const all = [...members[0]!.lines, ...members[1]!.lines].map((l) => Number(l.split(' ')[1])).sort((x, y) => x - y);
    expect(all).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(members[0]!.lines.length).toBe(5);
  });
});

const PAHO = String.raw`
import sys, time, threading
import paho.mqtt.client as mqtt
port = int(sys.argv[1]); version = sys.argv[2]
proto = mqtt.MQTTv5 if version == '5' else mqtt.MQTTv311
got = []; done = threading.Event(); subscribed = threading.Event()
def on_message(c, u, m):
    props = getattr(m, 'properties', None)
    up = dict(props.UserProperty) if props is not None and hasattr(props, 'UserProperty') else {}
    got.append((m.topic, m.payload.decode(), m.qos, int(m.retain), up.get('site', '-')))
    if len(got) == 4: done.set()
def on_subscribe(c, u, mid, granted, props=None): subscribed.set()
s = mqtt.Client(client_id='paho-sub-' + version, protocol=proto)
s.on_message = on_message; s.on_subscribe = on_subscribe
s.connect('127.0.0.1', port); s.loop_start()
p = mqtt.Client(client_id='paho-pub-' + version, protocol=proto)
p.connect('127.0.0.1', port); p.loop_start()
p.publish('paho/retained', 'kept', qos=1, retain=True).wait_for_publish()
s.subscribe('paho/#', qos=2); subscribed.wait(5)
for q in (0, 1, 2):
    if version == '5':
        from paho.mqtt.properties import Properties
        from paho.mqtt.packettypes import PacketTypes
        pr = Properties(PacketTypes.PUBLISH); pr.UserProperty = ('site', 'north')
        p.publish('paho/q%d' % q, 'm%d' % q, qos=q, properties=pr).wait_for_publish()
    else:
        p.publish('paho/q%d' % q, 'm%d' % q, qos=q).wait_for_publish()
ok = done.wait(5)
for g in got: print('%s %s %d %d %s' % g)
p.disconnect(); s.disconnect(); p.loop_stop(); s.loop_stop()
sys.exit(0 if ok else 1)
`;

describe.each([['4'], ['5']])('python3-paho-mqtt, protocol %s', (version) => {
  it('QoS 0/1/2, retained on subscribe, user properties on MQTT 5', async () => {
    const { port } = await start();
    const p = run('/usr/bin/python3', ['-c', PAHO, String(port), version]);
    expect(await p.exited()).toBe(0);
    const site = version === '5' ? 'north' : '-';
    expect(p.lines.filter((l) => !l.includes('DeprecationWarning'))).toEqual([
      'paho/retained kept 1 1 -',
      `paho/q0 m0 0 0 ${site}`,
      `paho/q1 m1 1 0 ${site}`,
      `paho/q2 m2 2 0 ${site}`,
    ]);
  });
});

const PAHO_WS = String.raw`
import sys, threading
import paho.mqtt.client as mqtt
port = int(sys.argv[1]); got = threading.Event(); seen = []
def on_message(c, u, m):
    seen.append(m.payload.decode()); got.set()
def on_subscribe(c, u, mid, granted):
    c.publish('ws/paho', 'over websocket', qos=1)
c = mqtt.Client(client_id='paho-ws', transport='websockets')
c.ws_set_options(path='/mqtt')
c.on_message = on_message; c.on_subscribe = on_subscribe
c.on_connect = lambda c, u, f, rc: c.subscribe('ws/#', qos=1)
c.connect('127.0.0.1', port); c.loop_start()
ok = got.wait(5); c.disconnect(); c.loop_stop()
print(seen[0] if seen else 'nothing'); sys.exit(0 if ok else 1)
`;

describe('python3-paho-mqtt over WebSocket', () => {
  it('connects, subscribes and gets its own QoS 1 message back', async () => {
    const { broker } = await start({ listeners: [{ host: '127.0.0.1', port: 0, protocol: 'ws' }] });
    const p = run('/usr/bin/python3', ['-c', PAHO_WS, String(broker.addresses()[0]!.port)]);
    expect(await p.exited()).toBe(0);
    expect(p.lines.filter((l) => !l.includes('Warning'))).toEqual(['over websocket']);
  });
});
