// Issue 18 item 3: a client id belongs to the user who created its session. Another user's
// CONNECT with it is refused (0x87 / 3.1.1 return code 5); it never takes over the live
// connection nor inherits the session, so it cannot receive topics its own ACL denies.
import { describe, expect, it } from 'vitest';
import { collect, connectClient, connectWithAck, sleep, useBroker } from '../../test/helpers/broker.js';
import type { Broker } from './index.js';
import { hashPassword } from './index.js';

let broker: Broker | undefined;
const startBroker = useBroker();

const FAST = { N: 1024, r: 8, p: 1 };

async function start() {
  const s = await startBroker({
    users: [
      { username: 'alice', passwordHash: await hashPassword('a-pass', FAST) },
      { username: 'bob', passwordHash: await hashPassword('b-pass', FAST) },
    ],
    acls: [
      { user: 'alice', topic: 'secret/#', access: 'readwrite' },
      { user: 'bob', topic: 'public/#', access: 'readwrite' },
    ],
  });
  broker = s.broker;
  return s;
}

describe('client ids bound to their owner (issue 18)', () => {
  for (const protocolVersion of [4, 5] as const) {
    it(`MQTT ${protocolVersion === 4 ? '3.1.1' : '5'}: another user cannot take over a live connection or a stored session`, async () => {
      const s = await start();
      const alice = await connectClient(s.url, { clientId: 'plc', username: 'alice', password: 'a-pass', clean: false, protocolVersion, ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 3600 } } : {}) });
      await alice.subscribeAsync('secret/#', { qos: 1 });
      const inbox = collect(alice);

      // Live: bob is refused and alice stays connected.
      await expect(connectWithAck(s.url, { clientId: 'plc', username: 'bob', password: 'b-pass', clean: false, protocolVersion })).rejects.toThrow(/[Nn]ot authorized|Connection refused/);
      await sleep(100);
      expect(alice.connected).toBe(true);

      // Stored: alice goes away; bob still cannot get her session or its queued messages.
      await alice.endAsync();
      const feeder = await connectClient(s.url, { clientId: 'feeder', username: 'alice', password: 'a-pass' });
      await feeder.publishAsync('secret/x', 'for alice only', { qos: 1 });
      await expect(connectWithAck(s.url, { clientId: 'plc', username: 'bob', password: 'b-pass', clean: false, protocolVersion })).rejects.toThrow(/[Nn]ot authorized|Connection refused/);

      // The owner resumes her session with the message waiting.
      const back = await connectWithAck(s.url, { clientId: 'plc', username: 'alice', password: 'a-pass', clean: false, protocolVersion, ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 3600 } } : {}) });
      expect(back.connack.sessionPresent).toBe(true);
      const [m] = await collect(back.client).next(1);
      expect(m!.payload.toString()).toBe('for alice only');
      expect(inbox.got).toHaveLength(0);
    });
  }

  it('the same user may still take over its own client id [MQTT-3.1.4-3]', async () => {
    const s = await start();
    const first = await connectClient(s.url, { clientId: 'hmi', username: 'bob', password: 'b-pass' });
    let closed = false;
    first.on('close', () => (closed = true));
    const second = await connectClient(s.url, { clientId: 'hmi', username: 'bob', password: 'b-pass' });
    await sleep(200);
    expect(second.connected).toBe(true);
    expect(closed).toBe(true);
  });
});
