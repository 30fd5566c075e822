// QoS 0 records leave the outbox only when the broker has them: the fence's PUBACK, not the
// socket write, is what acknowledges them. aedes holds every PUBLISH (and so its PUBACK) on
// request, which is how the test keeps the fence unanswered.
import { describe, expect, it } from 'vitest';
import { AedesUpstream } from '../../test/helpers/aedes-upstream.js';
import { startBridge, until } from '../../test/helpers/bridge-fixture.js';
import { MemoryOutbox } from '../store/memory-outbox.js';
import { useCleanups } from '../../test/helpers/cleanups.js';

const cleanups = useCleanups({ ignoreErrors: true });

function qos0Outbox(n: number): MemoryOutbox {
  const outbox = new MemoryOutbox({ maxBytes: 1 << 24, maxAgeMs: 3_600_000, onFull: 'reject-new' });
  outbox.append(Array.from({ length: n }, (_, i) => ({ kind: 'mqtt', topic: `t/${i}`, payload: Buffer.from(String(i)), qos: 0 as const })));
  return outbox;
}

describe('ack fence for QoS 0 records', () => {
  it('keeps QoS 0 records until the fence is acknowledged, then deletes them', async () => {
    const broker = await AedesUpstream.started(cleanups);
    const outbox = qos0Outbox(5);
    broker.hold = true;
    const bridge = startBridge(cleanups, outbox, broker.url, { fenceTopic: 'fieldgate/fence/g/node' });
    await until(() => broker.heldCount >= 1, 5000, 'the fence held by the broker');
    await new Promise((r) => setTimeout(r, 200));
    // Written to the socket long ago, but the broker has not confirmed: still in the outbox.
    expect(outbox.stats().depth).toBe(5);
    // Unhold first: releasing lets aedes read on at once, and a fence that arrives while `hold`
    // is still set would be held forever.
    broker.hold = false;
    broker.release();
    await until(() => outbox.stats().depth === 0, 5000, 'records acknowledged by the fence');
    const topics = broker.received.map((r) => r.topic);
    expect(topics.slice(0, 5)).toEqual(['t/0', 't/1', 't/2', 't/3', 't/4']);
    expect(topics).toContain('fieldgate/fence/g/node');
  });

  it('without a fence topic a QoS 0 record counts as sent once written', async () => {
    const broker = await AedesUpstream.started(cleanups);
    const outbox = qos0Outbox(3);
    broker.hold = true;
    const bridge = startBridge(cleanups, outbox, broker.url);
    await until(() => outbox.stats().depth === 0, 5000, 'records counted as sent on write');
    broker.release();
  });
});
