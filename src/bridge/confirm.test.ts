// upstream.confirm (issue 13): what deletes a record. qos1: its own PUBACK, QoS 0 records sent
// at QoS 1. host: only the consumer's retained ack `{"epoch","through"}` on
// <ackPrefix>/<group>/<node>; a reconnect sends again everything above it. The consumer side is
// the reference Deduper's acks().
import mqtt from 'mqtt';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { AedesUpstream } from '../../test/helpers/aedes-upstream.js';
import { expectKeptUntilConfirmed, makeBridge, qos0Outbox, startBridge, until } from '../../test/helpers/bridge-fixture.js';
import { createLogger } from '../observe/logger.js';
import { MetricsRegistry } from '../observe/metrics.js';
import { extractDedupKey } from './dedup-key.js';
import { Deduper } from './deduper.js';
import { parseHostAck } from './host-confirm.js';
import { useCleanups } from '../../test/helpers/cleanups.js';

const cleanups = useCleanups({ ignoreErrors: true });

async function consumer(url: string): Promise<mqtt.MqttClient> {
  const c = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, clientId: `c-${Math.random().toString(36).slice(2, 8)}` });
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
  });
  cleanups.push(async () => void c.end(true));
  return c;
}

describe('confirm: qos1', () => {
  it('sends QoS 0 records at QoS 1 and deletes each on its own PUBACK (no fence)', async () => {
    const broker = await AedesUpstream.started(cleanups);
    const outbox = qos0Outbox(5);
    broker.hold = true;
    startBridge(cleanups, outbox, broker.url, { confirm: 'qos1', fenceTopic: 'fieldgate/fence/g/node' });
    await expectKeptUntilConfirmed(broker, outbox, 5);
    expect(broker.received.map((r) => r.qos)).toEqual([1, 1, 1, 1, 1]);
    expect(broker.received.map((r) => r.topic)).not.toContain('fieldgate/fence/g/node');
  });
});

describe('confirm: host', () => {
  it('deletes nothing on PUBACK, only up to the consumer ack of the current epoch; resends the rest after a reconnect', async () => {
    const broker = await AedesUpstream.started(cleanups);
    const outbox = qos0Outbox(10);
    const metrics = new MetricsRegistry();
    const bridge = makeBridge(outbox, broker.url, { confirm: 'host', metrics });
    cleanups.push(() => bridge.stop());
    const central = await consumer(broker.url);
    bridge.start();
    await until(() => broker.received.filter((r) => r.topic.startsWith('t/')).length >= 10, 5000, 'ten sent');
    await until(() => broker.subscribed.has('fieldgate/ack/g/node'), 5000, 'ack topic subscribed');
    await new Promise((r) => setTimeout(r, 200));
    expect(outbox.stats().depth).toBe(10);
    expect(metrics.render()).toMatch(/fieldgate_upstream_confirm_lag_records 10/);

    // Another epoch, garbage: ignored.
    central.publish('fieldgate/ack/g/node', JSON.stringify({ epoch: 'other', through: 10 }), { qos: 1, retain: true });
    central.publish('fieldgate/ack/g/node', 'not json', { qos: 1, retain: true });
    await new Promise((r) => setTimeout(r, 300));
    expect(outbox.stats().depth).toBe(10);

    central.publish('fieldgate/ack/g/node', JSON.stringify({ epoch: outbox.epoch, through: 4 }), { qos: 1, retain: true });
    await until(() => outbox.stats().depth === 6, 5000, 'four confirmed');
    expect(outbox.ackedThrough()).toBe(4);
    expect(metrics.render()).toMatch(/fieldgate_upstream_confirm_lag_records 6/);

    // A reconnect sends again everything above `through`.
    const before = broker.received.length;
    await broker.stop();
    await broker.restart();
    await until(() => broker.received.slice(before).filter((r) => r.topic.startsWith('t/')).length >= 6, 5000, 'six resent');
    expect(broker.received.slice(before).filter((r) => r.topic.startsWith('t/')).map((r) => Number(r.payload) + 1)).toEqual([5, 6, 7, 8, 9, 10]);
    // The retained ack (through 4) came back at subscribe; a later one deletes the rest.
    expect(outbox.stats().depth).toBe(6);
    const central2 = await consumer(broker.url);
    central2.publish('fieldgate/ack/g/node', JSON.stringify({ epoch: outbox.epoch, through: 10 }), { qos: 1, retain: true });
    await until(() => outbox.stats().depth === 0, 5000, 'all confirmed');
    expect(metrics.render()).toMatch(/fieldgate_upstream_confirm_lag_records 0/);
  });

  it('the reference consumer side: Deduper.acks() after commit, again after a duplicate, all after reconnect', () => {
    const d = new Deduper();
    const key = (seq: number) => ({ node: 'g/n', epoch: 'e1', seq });
    for (const s of [1, 2, 3]) d.accept(key(s));
    const [a] = d.acks();
    expect(a?.topic).toBe('fieldgate/ack/g/n');
    expect(parseHostAck(a?.payload as Buffer)).toEqual({ epoch: 'e1', through: 3, above: [] });
    expect(d.acks()).toEqual([]);
    // A gap (records the edge dropped): confirmed ranges above it travel in `above`.
    d.accept(key(6));
    expect(JSON.parse(String(d.acks({ prefix: 'x/ack/' })[0]?.payload))).toEqual({ epoch: 'e1', through: 3, above: [[6, 6]] });
    // A repeat of something acked: the edge has not seen the ack, say it again.
    d.accept(key(2));
    expect(d.acks()).toHaveLength(1);
    expect(d.acks({ all: true })).toHaveLength(1);
    // A newer epoch of the same node replaces the retained ack.
    d.accept({ node: 'g/n', epoch: 'e2', seq: 1 });
    expect(JSON.parse(String(d.acks()[0]?.payload))).toEqual({ epoch: 'e2', through: 1 });
  });

  it('the edge honours `above` (records past a gap the consumer will never get)', async () => {
    const broker = await AedesUpstream.started(cleanups);
    const outbox = qos0Outbox(6);
    const bridge = makeBridge(outbox, broker.url, { confirm: 'host' });
    cleanups.push(() => bridge.stop());
    const central = await consumer(broker.url);
    bridge.start();
    await until(() => broker.subscribed.has('fieldgate/ack/g/node'), 5000, 'ack topic subscribed');
    central.publish('fieldgate/ack/g/node', JSON.stringify({ epoch: outbox.epoch, through: 2, above: [[4, 6]] }), { qos: 1, retain: true });
    await until(() => outbox.stats().depth === 1, 5000, 'five confirmed');
    expect(outbox.read(0, 10).map((r) => r.seq)).toEqual([3]);
  });

  it('sends again, without waiting for a reconnect, what the consumer never got (sent before it subscribed)', async () => {
    // Issue 13: after a broker restart the edge may resend before a non-persistent consumer is
    // back; the broker drops those records and no ack will ever come. Before host-stall.ts the
    // stable session kept them in the outbox for good.
    const broker = await AedesUpstream.started(cleanups);
    const outbox = qos0Outbox(20);
    const lines: string[] = [];
    const logger = createLogger({ destination: new Writable({ write(c: Buffer, _e, cb) { lines.push(c.toString()); cb(); } }) });
    const bridge = startBridge(cleanups, outbox, broker.url, { confirm: 'host', hostResendAfterMs: 400, logger });
    await until(() => broker.received.filter((r) => r.topic.startsWith('t/')).length >= 20, 5000, 'all 20 sent, nobody listening');
    // The consumer: record i carries payload i - 1; it acks the gap-free prefix it has.
    const central = await consumer(broker.url);
    const seen = new Set<number>();
    let through = 0;
    central.on('message', (_topic, payload) => {
      seen.add(Number(payload) + 1);
      while (seen.has(through + 1)) through++;
      central.publish('fieldgate/ack/g/node', JSON.stringify({ epoch: outbox.epoch, through }), { qos: 1, retain: true });
    });
    await new Promise<void>((r) => central.subscribe('t/#', { qos: 1 }, () => r()));
    await until(() => outbox.stats().depth === 0, 5000, 'the unacked records sent again and confirmed');
    expect(through).toBe(20);
    expect(lines.filter((l) => l.includes('FG_ERR_UPSTREAM_HOST_STALLED'))).toHaveLength(1);
  });
});

describe('dedup key on the wire in host mode', () => {
  it('is the usual key', () => {
    expect(extractDedupKey({ payload: Buffer.alloc(0), userProperties: { 'fg-dedup': 'g/node/e/7' } })).toEqual({ node: 'g/node', epoch: 'e', seq: 7 });
  });
});
