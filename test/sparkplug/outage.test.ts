// Store-and-forward as the control room sees it: the upstream broker goes away while the
// simulator keeps counting; when it returns, the births come first, then every value produced
// during the outage, flagged is_historical, in order, and exactly once after the reference
// deduper reads the key each message carries. In each upstream.confirm mode (confirm-modes.ts).
import { describe, expect, it } from 'vitest';
import { Deduper } from '../../src/bridge/deduper.js';
import { AedesUpstream, type Received } from '../helpers/aedes-upstream.js';
import { decodeIndependently } from './independent-decoder.js';
import { startGateway } from './gateway-fixture.js';
import { until } from '../helpers/until.js';
import { confirmModes } from '../helpers/confirm-modes.js';
import mqtt from 'mqtt';
import { useCleanups } from '../helpers/cleanups.js';

/**
 * confirm: host: a consumer that has whatever the broker received (as a broker-side store
 * would) and acks it, so the test observes the broker and the outbox still drains.
 */
function ackWhatTheBrokerReceived(broker: AedesUpstream): () => Promise<void> {
  const dedup = new Deduper();
  let read = 0;
  const client = mqtt.connect(broker.url, { protocolVersion: 4, reconnectPeriod: 50, clientId: 'central-host' });
  client.on('error', () => undefined);
  client.on('connect', () => {
    for (const a of dedup.acks({ all: true })) client.publish(a.topic, a.payload, { qos: 1, retain: true });
  });
  const timer = setInterval(() => {
    for (; read < broker.received.length; read++) {
      const key = broker.received[read]?.key;
      if (key !== undefined) dedup.accept(key);
    }
    if (client.connected) for (const a of dedup.acks()) client.publish(a.topic, a.payload, { qos: 1, retain: true });
  }, 50);
  return async () => {
    clearInterval(timer);
    await client.endAsync(true);
  };
}

const cleanups = useCleanups({ ignoreErrors: true });


describe.each(confirmModes())('Sparkplug after an upstream outage, confirm: %s', (mode) => {
  it('births first, then the outage values as historical, in order, exactly once', async () => {
    const broker = await AedesUpstream.started(cleanups);
    if (mode === 'host') cleanups.push(ackWhatTheBrokerReceived(broker));
    const gw = await startGateway({ url: broker.url, confirm: mode });
    cleanups.push(gw.stop);
    const path = gw.gateway.upstreamPath!;
    await until(() => broker.received.filter((r) => r.topic.includes('/DDATA/')).length >= 3, 5000, 'live DDATA');

    await broker.stop();
    const outageStart = Date.now();
    // In host mode the outbox still holds what the consumer had not yet acked when the broker
    // went away, so count the outage's own records on top of that.
    const depthAtStop = path.store.outbox.stats().depth;
    await until(() => path.store.outbox.stats().depth >= depthAtStop + 12, 8000, 'values buffered during the outage');
    const bufferedAtRestart = path.store.outbox.stats().depth;
    await broker.restart();
    const restartedAt = broker.received.length;
    await until(() => path.store.outbox.stats().depth === 0 && broker.received.length > restartedAt + bufferedAtRestart, 10_000, 'backlog drained');
    const liveAgain = () =>
      broker.received.slice(restartedAt).some((r) => r.topic.includes('/DDATA/') && decodeIndependently(r.payload).metrics?.some((m) => m.isHistorical !== true) === true);
    await until(liveAgain, 5000, 'a live value after the reconnect');
    await gw.stop();

    const births = broker.received.filter((r) => r.topic.includes('/NBIRTH/'));
    expect(births).toHaveLength(2);
    const secondBirth = births[1]!;
    const dbirth = decodeIndependently(broker.received.find((r) => r.topic.endsWith('/DBIRTH/edge-1/pump'))!.payload);
    const countAlias = dbirth.metrics?.find((m) => m.name === 'count')?.alias;

    // Every DDATA value of the counter, as sent, with its dedup key and flags.
    const dedup = new Deduper();
    const values: Array<{ value: number; historical: boolean; r: Received }> = [];
    let duplicates = 0;
    for (const r of broker.received) {
      if (!r.topic.endsWith('/DDATA/edge-1/pump')) continue;
      expect(r.key, 'every DATA message carries a dedup key').toBeDefined();
      if (!dedup.accept(r.key!)) {
        duplicates++;
        continue;
      }
      for (const m of decodeIndependently(r.payload).metrics ?? []) {
        if (m.alias === countAlias) values.push({ value: Number(m.longValue), historical: m.isHistorical === true, r });
      }
    }
    // Exactly once: the counter's values form one gap-free run with no repeats. A value a
    // DBIRTH carried is not repeated by a DDATA (issue 12), so the births fill the run.
    const sorted = values.map((v) => v.value).sort((a, b) => a - b);
    expect(new Set(sorted).size).toBe(sorted.length);
    const inBirths = broker.received
      .filter((r) => r.topic.endsWith('/DBIRTH/edge-1/pump'))
      .flatMap((r) => decodeIndependently(r.payload).metrics?.filter((m) => m.name === 'count' && m.isNull !== true).map((m) => Number(m.longValue)) ?? []);
    const run = [...new Set([...sorted, ...inBirths])].sort((a, b) => a - b);
    expect(run[run.length - 1]! - run[0]!).toBe(run.length - 1);

    // The values of the outage came after the new births, flagged historical, in order.
    // (Values read before the very first connect are historical too, in the first session.)
    const historical = values.filter((v) => v.historical && v.r.index > secondBirth.index);
    expect(historical.length).toBeGreaterThanOrEqual(10);
    // Nothing produced during the outage reached the host before the births, or unflagged.
    const lastBeforeOutage = Math.max(...values.filter((v) => v.r.index < secondBirth.index).map((v) => v.value));
    for (const v of values.filter((x) => x.value > lastBeforeOutage && x.value <= Math.max(...historical.map((h) => h.value)))) {
      expect(v.historical).toBe(true);
      expect(v.r.index).toBeGreaterThan(secondBirth.index);
    }
    const hv = historical.map((h) => h.value);
    expect(hv).toEqual([...hv].sort((a, b) => a - b));
    // Live values of the new session are not historical, and every historical one is older.
    const liveAfter = values.filter((v) => !v.historical && v.r.index > secondBirth.index);
    expect(liveAfter.length).toBeGreaterThan(0);
    expect(Math.max(...hv)).toBeLessThan(Math.min(...liveAfter.map((v) => v.value)));
    expect(duplicates).toBeLessThanOrEqual(100); // at most the in-flight window
    expect(Date.now() - outageStart).toBeLessThan(20_000);
  });
});
