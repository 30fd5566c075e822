// Valid packets of every client-to-server type, and ways to break them, for the broker fuzz
// test. Seeded, so a failure can be replayed.
import mqttPacket, { type Packet } from 'mqtt-packet';
import { seededRandom } from '../../drivers/simulator/signals.js';
import { sleep } from './broker.js';

/** Mulberry32 (the simulator's): small, fast, good enough to pick mutations reproducibly. */
export const prng: (seed: number) => () => number = seededRandom;

function corpus(v: 4 | 5): Buffer[] {
  const o = { protocolVersion: v };
  const props = v === 5;
  const packets: Packet[] = [
    { cmd: 'publish', topic: 'fz/a', payload: Buffer.from('hello'), qos: 0, dup: false, retain: false },
    { cmd: 'publish', topic: 'fz/b/c', payload: Buffer.alloc(40, 7), qos: 1, messageId: 11, dup: false, retain: false },
    { cmd: 'publish', topic: 'fz/r', payload: Buffer.from('r'), qos: 2, messageId: 12, dup: false, retain: true, ...(props ? { properties: { topicAlias: 2, userProperties: { a: 'b' }, messageExpiryInterval: 5 } } : {}) },
    { cmd: 'subscribe', messageId: 13, subscriptions: [{ topic: 'fz/#', qos: 1 }, { topic: '$share/g/fz/+', qos: 2 }], ...(props ? { properties: { subscriptionIdentifier: 9 } } : {}) },
    { cmd: 'unsubscribe', messageId: 14, unsubscriptions: ['fz/#', 'x'] },
    { cmd: 'puback', messageId: 1 },
    { cmd: 'pubrec', messageId: 2 },
    { cmd: 'pubrel', messageId: 12 },
    { cmd: 'pubcomp', messageId: 3 },
    { cmd: 'pingreq' },
    { cmd: 'disconnect', ...(props ? { reasonCode: 4, properties: { sessionExpiryInterval: 0 } } : {}) },
  ];
  return packets.map((p) => mqttPacket.generate(p, o));
}

export const CORPUS = { 4: corpus(4), 5: corpus(5) };

export function connectPacket(v: 4 | 5, clientId: string, rnd: () => number): Buffer {
  const will = rnd() < 0.3 ? { topic: 'fz/will', payload: Buffer.from('w'), qos: 1 as const, retain: false } : undefined;
  return mqttPacket.generate(
    { cmd: 'connect', protocolId: 'MQTT', protocolVersion: v, clientId, clean: rnd() < 0.7, keepalive: 30, ...(will ? { will } : {}), ...(v === 5 ? { properties: { sessionExpiryInterval: rnd() < 0.5 ? 0 : 1, receiveMaximum: 5 } } : {}) },
    { protocolVersion: v },
  );
}

/** One mutated packet: flipped bytes, a wrong length, truncation, garbage, or a valid one. */
export function mutate(rnd: () => number, v: 4 | 5): Buffer {
  const list = CORPUS[v];
  const base = Buffer.from(list[Math.floor(rnd() * list.length)] as Buffer);
  const kind = rnd();
  if (kind < 0.35) {
    // Flip bytes after the fixed header: mostly reaches the parser's body checks.
    const flips = 1 + Math.floor(rnd() * 3);
    for (let i = 0; i < flips; i++) {
      const at = 2 + Math.floor(rnd() * Math.max(1, base.length - 2));
      if (at < base.length) base[at] = Math.floor(rnd() * 256);
    }
    return base;
  }
  if (kind < 0.45) {
    base[0] = Math.floor(rnd() * 256); // any type and flags
    return base;
  }
  if (kind < 0.55) {
    base[1] = Math.floor(rnd() * 256); // lie about the length
    return base;
  }
  if (kind < 0.65) return base.subarray(0, Math.max(1, Math.floor(rnd() * base.length))); // truncated
  if (kind < 0.72) {
    const garbage = Buffer.alloc(1 + Math.floor(rnd() * 64));
    for (let i = 0; i < garbage.length; i++) garbage[i] = Math.floor(rnd() * 256);
    return garbage;
  }
  return base; // valid: keeps the connection alive long enough to matter
}

/**
 * The well-behaved client of a fuzz run: publishes `count` numbered QoS 1 messages on good/<n%7>,
 * resting 5 ms every `restEvery` while the fuzzers still have budget, so its messages spread
 * over their whole run.
 */
export async function publishGood(pub: { publishAsync(topic: string, payload: string, options: { qos: 1 }): Promise<unknown> }, count: number, restEvery: number, budget: { left: number }): Promise<void> {
  for (let n = 0; n < count; ) {
    await pub.publishAsync(`good/${n % 7}`, String(n), { qos: 1 });
    n++;
    if (n % restEvery === 0) await sleep(budget.left > 0 ? 5 : 0);
  }
}
