import { describe, expect, it } from 'vitest';
import { collect, connectClient, useBroker } from '../../test/helpers/broker.js';
import { MetricsRegistry } from '../observe/metrics.js';
import type { Broker } from './index.js';

let broker: Broker | undefined;
const startBroker = useBroker();

describe('broker metrics and $SYS topics', () => {
  it('counts clients, messages, bytes, retained and subscriptions, and publishes $SYS/broker/...', async () => {
    const metrics = new MetricsRegistry();
    const s = await startBroker({ sysInterval: '50ms' }, { metrics });
    broker = s.broker;
    const a = await connectClient(s.url, { clientId: 'a' });
    const b = await connectClient(s.url, { clientId: 'b' });
    await a.subscribeAsync('m/#', { qos: 1 });
    await b.publishAsync('m/1', 'hello', { qos: 1, retain: true });
    await collect(a).next(1);
    const text = metrics.render();
    expect(text).toMatch(/fieldgate_broker_clients_connected 2/);
    expect(text).toMatch(/fieldgate_broker_messages_in_total 1/);
    expect(text).toMatch(/fieldgate_broker_messages_out_total 1/);
    expect(text).toMatch(/fieldgate_broker_retained_messages 1/);
    expect(text).toMatch(/fieldgate_broker_subscriptions 1/);
    expect(Number(/fieldgate_broker_bytes_in_total (\d+)/.exec(text)?.[1])).toBeGreaterThan(20);

    const sys = await connectClient(s.url, { clientId: 'sys' });
    const inbox = collect(sys);
    await sys.subscribeAsync('$SYS/broker/clients/connected');
    const [first] = await inbox.next(1);
    expect(first!.packet.retain).toBe(true);
    // The next period's value counts the watcher too.
    const seen = await inbox.next(2, 2000);
    expect(seen[1]!.payload.toString()).toBe('3');
  });
});
