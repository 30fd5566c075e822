import { expect } from 'vitest';
import { Bridge, type BridgeOptions } from '../../src/bridge/bridge.js';
import { MemoryOutbox } from '../../src/store/memory-outbox.js';
import type { Outbox } from '../../src/store/outbox.js';
import type { AedesUpstream } from './aedes-upstream.js';
import { until } from './until.js';

export function makeBridge(outbox: Outbox, url: string, overrides: Partial<BridgeOptions> = {}): Bridge {
  return new Bridge({
    outbox,
    node: 'g/node',
    session: { url, protocolVersion: 4, clientId: `fg-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`, keepaliveMs: 30_000, connectTimeoutMs: 2_000 },
    inflight: 20,
    maxQos: 2,
    replayRate: { unit: 'messages', perSecond: 0 },
    backoff: { minMs: 20, maxMs: 200, jitter: 0.5 },
    ...overrides,
  });
}

/** makeBridge, started, its stop() on the test's cleanups. */
export function startBridge(cleanups: Array<() => unknown>, outbox: Outbox, url: string, overrides: Partial<BridgeOptions> = {}): Bridge {
  const bridge = makeBridge(outbox, url, overrides);
  cleanups.push(() => bridge.stop());
  bridge.start();
  return bridge;
}

/** A memory outbox holding `n` QoS 0 records, topics t/0 .. t/<n-1>. */
export function qos0Outbox(n: number): MemoryOutbox {
  const outbox = new MemoryOutbox({ maxBytes: 1 << 24, maxAgeMs: 3_600_000, onFull: 'reject-new' });
  outbox.append(Array.from({ length: n }, (_, i) => ({ kind: 'mqtt', topic: `t/${i}`, payload: Buffer.from(String(i)), qos: 0 as const })));
  return outbox;
}

/**
 * For a broker started with `hold` set (every PUBLISH and so its PUBACK held): once it holds
 * `held` packets, the outbox must still have all its records, written long ago but unconfirmed;
 * then the broker answers and the outbox must empty.
 */
export async function expectKeptUntilConfirmed(broker: AedesUpstream, outbox: Outbox, held: number): Promise<void> {
  const depth = outbox.stats().depth;
  await until(() => broker.heldCount >= held, 5000, `${held} packet(s) held by the broker`);
  await new Promise((r) => setTimeout(r, 200));
  expect(outbox.stats().depth).toBe(depth);
  // Unhold first: releasing lets aedes read on at once, and a packet that arrives while `hold`
  // is still set would be held forever.
  broker.hold = false;
  broker.release();
  await until(() => outbox.stats().depth === 0, 5000, 'records confirmed by the broker');
}

export { until };
