// Fault: an MQTT 5 upstream that refuses some PUBLISHes (PUBACK reason codes >= 0x80).
import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../observe/metrics.js';
import { MemoryOutbox } from '../store/memory-outbox.js';
import { startBridge, until } from '../../test/helpers/bridge-fixture.js';
import { useCleanups } from '../../test/helpers/cleanups.js';
import { startScriptedBroker, type ScriptedBroker } from '../../test/helpers/scripted-broker.js';

const cleanups = useCleanups();

/** The scripted MQTT 5 broker answering each PUBLISH with `reason`, closed after the test. */
async function brokerAnswering(reason: Parameters<typeof startScriptedBroker>[0]): Promise<ScriptedBroker> {
  const broker = await startScriptedBroker(reason);
  cleanups.push(() => broker.close());
  return broker;
}

const rec = (topic: string) => ({ kind: 'mqtt', topic, payload: Buffer.from('x'), qos: 1 as const });

function v5(url: string) {
  return { url, protocolVersion: 5 as const, clientId: 'fg-refusals', keepaliveMs: 30_000, connectTimeoutMs: 2000 };
}

describe('upstream refusals (MQTT 5 PUBACK reason codes)', () => {
  it('drops a record refused for good (0x87 not authorized), counts it, and keeps the queue moving', async () => {
    const broker = await brokerAnswering((topic) => (topic.startsWith('denied/') ? 0x87 : 0));
    const outbox = new MemoryOutbox({ maxBytes: 1e9, maxAgeMs: 1e9, onFull: 'drop-oldest' });
    outbox.append([rec('ok/1'), rec('denied/2'), rec('ok/3'), ...Array.from({ length: 30 }, (_, i) => rec(`denied/${i}`)), rec('ok/last')]);
    const metrics = new MetricsRegistry();
    startBridge(cleanups, outbox, broker.url, { metrics, inflight: 5, session: v5(broker.url) });
    await until(() => outbox.stats().depth === 0, 5000, 'queue drained past the refusals');
    expect(broker.published.map((p) => p.topic)).toContain('ok/last');
    expect(metrics.render()).toMatch(/fieldgate_upstream_refused_total\{reason="0x87"\} 31/);
    expect(broker.connections()).toBe(1);
  });

  it('treats quota exceeded (0x97) as transient: reconnects and resends, loses nothing', async () => {
    const broker = await brokerAnswering((_topic, nth) => (nth === 2 ? 0x97 : 0));
    const outbox = new MemoryOutbox({ maxBytes: 1e9, maxAgeMs: 1e9, onFull: 'drop-oldest' });
    outbox.append([rec('a/1'), rec('a/2'), rec('a/3')]);
    const metrics = new MetricsRegistry();
    startBridge(cleanups, outbox, broker.url, { metrics, inflight: 1, session: v5(broker.url) });
    await until(() => outbox.stats().depth === 0, 5000, 'drained after the quota refusal');
    expect(broker.connections()).toBe(2);
    expect(broker.published.map((p) => p.topic)).toEqual(['a/1', 'a/2', 'a/2', 'a/3']);
    expect(metrics.render()).not.toMatch(/fieldgate_upstream_refused_total\{/);
  });
});
