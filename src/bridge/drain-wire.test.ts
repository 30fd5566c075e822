// The drain's own publish path beside mqtt.js on one session, against a real broker (aedes):
// the drain's acks are matched by packet id in its own range, mqtt.js' publishes and
// subscriptions keep working next to it, and a session lost mid-batch is resent with DUP.
import net, { type AddressInfo, type Socket } from 'node:net';
import { Aedes, type PublishPacket } from 'aedes';
import mqtt, { type MqttClient, type Packet } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { makeBridge, startBridge, until } from '../../test/helpers/bridge-fixture.js';
import { MemoryOutbox } from '../store/memory-outbox.js';
import type { QoS } from '../store/outbox.js';
import type { Bridge } from './bridge.js';
import { SESSION_ID_MAX } from './packet-ids.js';

const COMMANDER = 'fg-test-commander';
/** Records are `rec/<seq>`. */
const seqOf = (topic: string) => Number(topic.slice(4));

interface Seen {
  topic: string;
  qos: number;
  dup: boolean;
  messageId: number | undefined;
  session: number;
}

/** aedes on loopback that records every PUBLISH as it arrived (DUP included) and can hold them. */
async function startBroker() {
  const seen: Seen[] = [];
  const held: Array<() => void> = [];
  const sockets = new Set<Socket>();
  let sessions = 0;
  /** PUBLISHes of records with this sequence or above are held (and so their acks). */
  const state = { holdFrom: Infinity };
  const broker = await Aedes.createBroker({
    authorizePublish: (client, packet: PublishPacket, cb) => {
      if (client?.id === COMMANDER) return cb(null);
      seen.push({ topic: packet.topic, qos: packet.qos, dup: packet.dup, messageId: packet.messageId, session: sessions });
      if (packet.topic.startsWith('rec/') && seqOf(packet.topic) >= state.holdFrom) held.push(() => cb(null));
      else cb(null);
    },
  });
  // Bridge sessions only: the test's own command publisher is not one.
  broker.on('client', (client) => {
    if (client.id !== COMMANDER) sessions++;
  });
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    state,
    held,
    sessions: () => sessions,
    /** Cuts every connection from the broker's side, as a network failure would. */
    cut: () => {
      for (const s of sockets) s.destroy();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => broker.close(() => r()));
    },
  };
}

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The record's sequence is in its topic: `rec/<seq>`. */
function records(n: number, qos: (i: number) => QoS) {
  return Array.from({ length: n }, (_, i) => ({ kind: 'mqtt', topic: `rec/${i + 1}`, payload: Buffer.from(`r${i + 1}`), qos: qos(i) }));
}

describe('the drain wire beside mqtt.js', () => {
  it('matches PUBACK, PUBREC and PUBCOMP in its own id range while mqtt.js publishes and subscribes on the same session', async () => {
    const broker = await startBroker();
    cleanups.push(broker.close);
    const outbox = new MemoryOutbox({ maxBytes: 1e9, maxAgeMs: 1e9, onFull: 'drop-oldest' });
    outbox.append(records(3000, (i) => (i % 2 === 0 ? 1 : 2)));
    const acks: Array<{ cmd: string; id: number }> = [];
    const own: Array<{ qos: number; err: unknown; id: number | undefined }> = [];
    const commands: string[] = [];
    let session: MqttClient | undefined;
    const bridge: Bridge = makeBridge(outbox, broker.url, {
      inflight: 200,
      subscriptions: [{ filter: 'cmd/#', qos: 1 }],
      onMessage: (topic) => commands.push(topic),
      onConnect: (client) => {
        session = client;
        client.on('packetreceive', (p: Packet) => {
          if ((p.cmd === 'puback' || p.cmd === 'pubcomp' || p.cmd === 'pubrec') && p.messageId !== undefined) acks.push({ cmd: p.cmd, id: p.messageId });
        });
      },
    });
    cleanups.push(() => bridge.stop());
    bridge.start();
    await until(() => session !== undefined && outbox.stats().depth < 2900, 5000, 'the drain under way');
    // mqtt.js' own QoS 1 and 2 publishes in the middle of the drain, through its own store.
    for (let i = 0; i < 40; i++) {
      const qos = (1 + (i % 2)) as 1 | 2;
      session?.publish(`own/${i}`, Buffer.from('o'), { qos }, (err, packet) => own.push({ qos, err, id: packet?.messageId }));
    }
    // Commands coming down on mqtt.js' subscription.
    const other = mqtt.connect(broker.url, { clientId: COMMANDER, reconnectPeriod: 0 });
    cleanups.push(() => new Promise((r) => other.end(true, {}, () => r(undefined))));
    await new Promise((r) => other.once('connect', r));
    for (let i = 0; i < 20; i++) other.publish(`cmd/${i}`, 'c', { qos: 1 });

    await until(() => outbox.stats().depth === 0 && own.length === 40 && commands.length === 20, 10_000, 'drained, own publishes and commands done');
    const recs = broker.seen.filter((s) => s.topic.startsWith('rec/'));
    // Every record once, in order, with its QoS, all on one session.
    expect(recs.map((s) => seqOf(s.topic))).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
    expect(recs.every((s) => s.qos === (seqOf(s.topic) % 2 === 1 ? 1 : 2) && !s.dup)).toBe(true);
    expect(broker.sessions()).toBe(1);
    // The records' ids are the drain's; mqtt.js' own are below them.
    expect(recs.every((s) => (s.messageId ?? 0) > SESSION_ID_MAX)).toBe(true);
    expect(own.every((o) => o.err === null || o.err === undefined)).toBe(true);
    expect(own.every((o) => o.id !== undefined && o.id >= 1 && o.id <= SESSION_ID_MAX)).toBe(true);
    // mqtt.js saw the acks of its own publishes only: the drain's were taken out before its
    // parser (ack-tap.ts). Each QoS 2 record left the outbox on its PUBCOMP, which the broker
    // sends only for the PUBREL the drain wrote itself.
    expect(acks.length).toBeGreaterThanOrEqual(40);
    expect(acks.every((a) => a.id <= SESSION_ID_MAX)).toBe(true);
    expect(commands.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `cmd/${i}`).sort());
  });

  it('a session lost mid-batch: the unacknowledged records go again with DUP on the next session, none lost', async () => {
    const broker = await startBroker();
    cleanups.push(broker.close);
    const outbox = new MemoryOutbox({ maxBytes: 1e9, maxAgeMs: 1e9, onFull: 'drop-oldest' });
    outbox.append(records(500, (i) => (i % 3 === 2 ? 2 : 1)));
    broker.state.holdFrom = 1;
    const bridge = startBridge(cleanups, outbox, broker.url, { inflight: 100 });
    await until(() => broker.held.length === 100, 5000, 'a full window held unacknowledged');
    expect(outbox.stats().depth).toBe(500);
    broker.state.holdFrom = Infinity;
    broker.cut();
    await until(() => outbox.stats().depth === 0, 10_000, 'drained on the next session');
    expect(broker.sessions()).toBe(2);
    const first = broker.seen.filter((s) => s.session === 1 && s.topic.startsWith('rec/'));
    const second = broker.seen.filter((s) => s.session === 2 && s.topic.startsWith('rec/'));
    expect(first.map((s) => seqOf(s.topic))).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    // The window sent before the cut goes first and marked DUP; everything after is new.
    expect(second.map((s) => seqOf(s.topic))).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    expect(second.filter((s) => s.dup).map((s) => seqOf(s.topic))).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(second.every((s) => s.qos === (seqOf(s.topic) % 3 === 0 ? 2 : 1))).toBe(true);
  });

  it('commits acks in batches on a large window, and an ack whose batch never fills within 2 ms is committed anyway', async () => {
    const broker = await startBroker();
    cleanups.push(broker.close);
    const outbox = new MemoryOutbox({ maxBytes: 1e9, maxAgeMs: 1e9, onFull: 'drop-oldest' });
    outbox.append(records(20_000, () => 1));
    let transactions = 0;
    const ack = outbox.ack.bind(outbox);
    outbox.ack = (ranges) => {
      transactions++;
      ack(ranges);
    };
    // Records from 18,877 on are held: the acks before them arrive with a window's worth still
    // outstanding, more than a batch, so only the time limit commits them (18,876 is not a
    // multiple of anything a batch could end on by chance).
    broker.state.holdFrom = 18_877;
    const bridge = startBridge(cleanups, outbox, broker.url, { inflight: 1000 });
    await until(() => outbox.stats().ackedThrough === 18_876, 10_000, 'every released record durably acknowledged');
    // A batch is a quarter window (250); the 2 ms limit cuts some short, never most.
    expect(transactions).toBeLessThan(20_000 / 25);
    // (aedes stops reading a client with a few hundred PUBLISHes unanswered: the bridge's side counts.)
    await until(() => bridge.status().inflight === 1000, 5000, 'a full window sent');
    expect(outbox.stats()).toMatchObject({ depth: 1124, ackedThrough: 18_876 });
  });
});
