// Issue 19: the upstream link wedged for good after a command flood ("connected, 20 in flight",
// the outbox growing, CPU idle) because a QoS 1 confirmation (the ack fence's PUBACK) that
// never came was waited for without a bound. Here aedes holds every PUBLISH from the gateway,
// so no PUBACK ever arrives: the bridge must end that session within its confirmation timeout
// (8 s) and deliver again on the next one, with no restart.
import { describe, expect, it } from 'vitest';
import { AedesUpstream } from '../helpers/aedes-upstream.js';
import { until } from '../helpers/until.js';
import { startGateway } from './gateway-fixture.js';
import { useCleanups } from '../helpers/cleanups.js';

const cleanups = useCleanups({ ignoreErrors: true });

describe('upstream confirmation timeout', () => {
  it('ends a session whose PUBACKs never come and delivers again on the next one', async () => {
    const broker = await AedesUpstream.started(cleanups);
    const gw = await startGateway({ url: broker.url });
    cleanups.push(gw.stop);
    await until(() => broker.received.some((r) => r.topic.includes('/DDATA/')), 10_000, 'first DDATA');
    const sessions = broker.connects.length;
    broker.hold = true; // every PUBLISH (and so its PUBACK) is held from now on
    const heldAt = Date.now();
    await until(() => broker.connects.length > sessions, 15_000, 'the bridge ending the wedged session');
    expect(Date.now() - heldAt).toBeLessThan(12_000);
    broker.hold = false;
    const before = broker.received.length;
    await until(() => broker.received.slice(before).some((r) => r.topic.includes('/DDATA/')), 10_000, 'DDATA on the new session');
  }, 40_000);
});
