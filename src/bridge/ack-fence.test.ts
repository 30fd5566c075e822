// QoS 0 records leave the outbox only when the broker has them: the fence's PUBACK, not the
// socket write, is what acknowledges them. aedes holds every PUBLISH (and so its PUBACK) on
// request, which is how the test keeps the fence unanswered.
import { describe, expect, it } from 'vitest';
import { AedesUpstream } from '../../test/helpers/aedes-upstream.js';
import { expectKeptUntilConfirmed, qos0Outbox, startBridge, until } from '../../test/helpers/bridge-fixture.js';
import { useCleanups } from '../../test/helpers/cleanups.js';

const cleanups = useCleanups({ ignoreErrors: true });

describe('ack fence for QoS 0 records', () => {
  it('keeps QoS 0 records until the fence is acknowledged, then deletes them', async () => {
    const broker = await AedesUpstream.started(cleanups);
    const outbox = qos0Outbox(5);
    broker.hold = true;
    startBridge(cleanups, outbox, broker.url, { fenceTopic: 'fieldgate/fence/g/node' });
    // The fence held: the five records stay until its PUBACK.
    await expectKeptUntilConfirmed(broker, outbox, 1);
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
