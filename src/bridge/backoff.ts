// Reconnect delays: exponential from `min` to `max`, with a random fraction (`jitter`) so a
// fleet of gateways that lost the same broker does not come back in lock step.

export interface BackoffPolicy {
  minMs: number;
  maxMs: number;
  /** 0..1: the share of each delay that is random. */
  jitter: number;
}

/** Delay before retry number `attempt` (0 = first retry after a loss). */
export function backoffDelay(attempt: number, p: BackoffPolicy, random: () => number = Math.random): number {
  const base = Math.min(p.maxMs, p.minMs * 2 ** Math.min(attempt, 30));
  const fixed = base * (1 - p.jitter);
  return Math.round(fixed + base * p.jitter * random());
}
