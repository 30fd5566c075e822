import { describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { MemoryOutbox } from '../store/memory-outbox.js';
import { AppendQueue } from '../store/append-queue.js';
import { AedesUpstream } from '../../test/helpers/aedes-upstream.js';
import { startBridge, until } from '../../test/helpers/bridge-fixture.js';
import { useCleanups } from '../../test/helpers/cleanups.js';
import { CommandRouter, Forwarder, checkRules, type LocalMessage } from './forwarding.js';
import { filtersOverlap, mapTopic, topicMatches } from '../mqtt/topic-filter.js';

describe('topic filters', () => {
  const pairs = (list: string) => list.split(' ').map((p) => p.split('~') as [string, string]);
  it('match per MQTT 4.7', () => {
    for (const [filter, topic] of pairs('a/+/c~a/b/c a/#~a a/#~a/b/c a/b~a/b')) expect(topicMatches(filter, topic), `${filter} ~ ${topic}`).toBe(true);
    for (const [filter, topic] of pairs('a/+~a/b/c #~$SYS/x')) expect(topicMatches(filter, topic), `${filter} ~ ${topic}`).toBe(false);
  });
  // [from, to, topic, mapped]: the filter's fixed prefix replaced by `to`
  it.each([
    ['site/line1/#', 'central/s1', 'site/line1/temp/a', 'central/s1/temp/a'],
    ['site/line1/#', 'central/s1/', 'site/line1/temp', 'central/s1/temp'],
    ['site/+/temp', 'c', 'site/l2/temp', 'c/l2/temp'],
    ['site/x', 'c/y', 'site/x', 'c/y'],
    ['site/#', undefined, 'site/a', 'site/a'],
  ] as const)('maps %s onto %s: %s becomes %s', (from, to, topic, mapped) => {
    expect(mapTopic(from, to, topic)).toBe(mapped);
  });
  it('detect overlapping filters', () => {
    for (const [a, b] of pairs('a/#~a/b/+ a/+/c~a/b/c')) expect(filtersOverlap(a, b), `${a} ~ ${b}`).toBe(true);
    for (const [a, b] of pairs('a/b~a/c a/b~a/b/c')) expect(filtersOverlap(a, b), `${a} ~ ${b}`).toBe(false);
  });
});

describe('loop prevention in the rules', () => {
  it('refuses a forward rule whose output a command filter would bring back', () => {
    expect(() => checkRules([{ from: 'site/#', to: 'central/s1', qos: 1 }], [{ from: 'central/+/cmd/#', qos: 1 }])).toThrow(
      expect.objectContaining({ code: 'FG_ERR_CONFIG', message: expect.stringContaining('forwarding loop') }),
    );
    expect(() => checkRules([{ from: 'site/#', to: 'central/s1/data', qos: 1 }], [{ from: 'central/s1/cmd/#', qos: 1 }])).not.toThrow();
  });
});

const cleanups = useCleanups();

describe('forwarding through the outbox and commands coming down (aedes)', () => {
  it('forwards mapped local topics upstream, delivers commands locally, never sends a command back up', async () => {
    const upstream = await AedesUpstream.start();
    cleanups.push(() => upstream.close());
    const outbox = new MemoryOutbox({ maxBytes: 1e9, maxAgeMs: 1e9, onFull: 'drop-oldest' });
    const forward = [{ from: 'site/line1/#', to: 'central/s1/data', qos: 1 as const }];
    const commands = [{ from: 'central/s1/cmd/#', to: 'site/cmd', qos: 1 as const }];
    checkRules(forward, commands);
    const forwarder = new Forwarder(forward, new AppendQueue(outbox));
    // The local broker stand-in: whatever is published locally goes through the forwarder,
    // exactly as the broker will call it.
    const local: LocalMessage[] = [];
    const publishLocal = (m: LocalMessage): void => {
      local.push(m);
      void forwarder.onLocalPublish(m);
    };
    const router = new CommandRouter(commands, publishLocal);
    const bridge = startBridge(cleanups, outbox, upstream.url, { subscriptions: router.subscriptions(), onMessage: (t, p) => router.onUpstreamMessage(t, p) });
    await until(() => bridge.isConnected, 5000, 'connected');

    publishLocal({ topic: 'site/line1/temp', payload: Buffer.from('21.5'), qos: 1, retain: false, origin: 'local' });
    publishLocal({ topic: 'site/line2/temp', payload: Buffer.from('no rule'), qos: 1, retain: false, origin: 'local' });
    await upstream.waitFor(1);
    expect(upstream.received.map((r) => [r.topic, r.payload.toString()])).toEqual([['central/s1/data/temp', '21.5']]);

    const central = mqtt.connect(upstream.url, { clientId: 'central-app', reconnectPeriod: 0 });
    await new Promise<void>((r) => central.once('connect', () => r()));
    // The bridge's command subscription is in place before the command goes out.
    await until(() => upstream.subscribed.has('central/s1/cmd/#'), 5000, 'bridge subscribed');
    await new Promise<void>((r) => central.publish('central/s1/cmd/press-4/reset', Buffer.from('1'), { qos: 1 }, () => r()));
    await until(() => local.some((m) => m.origin === 'upstream'), 5000, 'command delivered locally');
    central.end(true);
    const cmd = local.find((m) => m.origin === 'upstream');
    expect(cmd).toMatchObject({ topic: 'site/cmd/press-4/reset', qos: 1 });
    expect(forwarder.suppressed).toBe(1);
    await until(() => outbox.stats().depth === 0, 5000, 'drained');
    // Upstream saw: our forwarded reading and the central app's command, nothing echoed back.
    expect(upstream.received.map((r) => r.topic)).toEqual(['central/s1/data/temp', 'central/s1/cmd/press-4/reset']);
  });
});
