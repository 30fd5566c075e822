// The contract every BrokerPersistence must meet (the aedes-persistence idea): the in-memory
// implementation runs it in src/broker/persistence.test.ts; the SQLite one in src/store should
// call `describePersistence('sqlite', ...)` with a `reopen` that closes and reopens the file.
import { describe, expect, it } from 'vitest';
import type { BrokerPersistence, SessionSnapshot } from '../../src/broker/persistence.js';
import type { Message } from '../../src/broker/types.js';

export interface PersistenceFixture {
  persistence: BrokerPersistence;
  /** Closes and opens the same storage again (a gateway restart); absent for memory-only. */
  reopen?: () => BrokerPersistence;
}

const msg = (topic: string, payload: string, extra: Partial<Message> = {}): Message => ({ topic, payload: Buffer.from(payload), qos: 1, retain: true, ...extra });

function session(clientId: string): SessionSnapshot {
  return {
    clientId,
    expiryInterval: 3600,
    disconnectedAt: 1_700_000_000_000,
    subscriptions: [
      { key: 'a/+', filter: 'a/+', qos: 1, noLocal: true, retainAsPublished: false, retainHandling: 1, subscriptionId: 42 },
      { key: '$share/g/b/#', filter: 'b/#', group: 'g', qos: 2, noLocal: false, retainAsPublished: true, retainHandling: 0 },
    ],
    inflight: [{ packetId: 7, state: 'publish', delivery: { message: msg('a/1', 'in flight', { retain: false }), qos: 1, retain: false, subscriptionIds: [42] } }],
    queue: [
      {
        message: msg('a/2', 'queued', {
          qos: 2,
          retain: false,
          expiresAt: 1_700_000_100_000,
          properties: { contentType: 'text/plain', correlationData: Buffer.from([1, 2]), userProperties: { k: 'v' }, responseTopic: 'r' },
        }),
        qos: 2,
        retain: false,
      },
    ],
    incomingQos2: [3, 9],
  };
}

/** `durable`: the fixture provides `reopen`, and the restart test is part of the contract. */
export function describePersistence(name: string, make: () => PersistenceFixture, options: { durable: boolean }): void {
  describe(`BrokerPersistence contract: ${name}`, () => {
    it('stores, replaces and clears retained messages by topic', () => {
      const { persistence: p } = make();
      p.putRetained(msg('t/1', 'one'));
      p.putRetained(msg('t/2', 'two'));
      p.putRetained(msg('t/1', 'uno', { properties: { userProperties: { a: ['1', '2'] } } }));
      p.putRetained(msg('t/2', ''));
      const all = p.listRetained();
      expect(all.map((m) => [m.topic, m.payload.toString()])).toEqual([['t/1', 'uno']]);
      expect(Buffer.isBuffer(all[0]!.payload)).toBe(true);
      expect(all[0]!.properties?.userProperties).toEqual({ a: ['1', '2'] });
      p.close();
    });

    it('round-trips a session snapshot exactly, payloads as Buffers', () => {
      const { persistence: p } = make();
      p.saveSession(session('c1'));
      const back = p.loadSession('c1');
      expect(back).toEqual(session('c1'));
      expect(Buffer.isBuffer(back!.queue[0]!.message.payload)).toBe(true);
      expect(Buffer.isBuffer(back!.queue[0]!.message.properties!.correlationData)).toBe(true);
      expect(p.loadSession('nobody')).toBeUndefined();
      p.close();
    });

    it('replaces a saved session, deletes one, and lists what is left', () => {
      const { persistence: p } = make();
      p.saveSession(session('c1'));
      p.saveSession(session('c2'));
      p.saveSession({ ...session('c1'), queue: [], expiryInterval: 10 });
      p.deleteSession('c2');
      p.deleteSession('never-existed');
      const list = p.listSessions();
      expect(list.map((s) => [s.clientId, s.expiryInterval, s.queue.length])).toEqual([['c1', 10, 0]]);
      p.close();
    });

    it('is isolated from later changes to what was saved or returned', () => {
      const { persistence: p } = make();
      const s = session('c1');
      p.saveSession(s);
      s.subscriptions.length = 0;
      s.queue[0]!.message.payload.write('XXXXXX');
      const back = p.loadSession('c1')!;
      expect(back.subscriptions.length).toBe(2);
      expect(back.queue[0]!.message.payload.toString()).toBe('queued');
      back.incomingQos2.push(99);
      expect(p.loadSession('c1')!.incomingQos2).toEqual([3, 9]);
      p.close();
    });

    if (!options.durable) return;
    it('keeps retained messages and sessions across a reopen', () => {
      const fixture = make();
      if (fixture.reopen === undefined) throw new Error('a durable fixture must provide reopen()');
      fixture.persistence.putRetained(msg('keep', 'me'));
      fixture.persistence.saveSession(session('c1'));
      fixture.persistence.close();
      const again = fixture.reopen();
      expect(again.listRetained().map((m) => m.topic)).toEqual(['keep']);
      expect(again.loadSession('c1')).toEqual(session('c1'));
      again.close();
    });
  });
}
