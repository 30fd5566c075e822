import { Bridge, type BridgeOptions } from '../../src/bridge/bridge.js';
import type { Outbox } from '../../src/store/outbox.js';

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

export { until } from './until.js';
