// The values behind the Sparkplug edge node metrics (sparkplug/node-metrics.ts), read from the
// parts that know them. Shared by the upstream and the local broker's Sparkplug streams.
import type { MetricsRegistry } from './observe/metrics.js';
import type { Clock } from './shared/clock.js';
import type { Runtime } from './runtime/runtime.js';
import type { NodeMetricValues } from './sparkplug/node-metrics.js';
import type { Outbox } from './store/outbox.js';

export interface NodeMetricSources {
  version: string;
  startedAt: number;
  clock: Clock;
  runtime: Runtime;
  metrics: MetricsRegistry;
  outbox: Outbox | undefined;
}

export function nodeMetricValues(s: NodeMetricSources, commands: { received: number; failed: number; last: string }): NodeMetricValues {
  const stats = s.outbox?.stats();
  const devices = s.runtime.devices();
  const now = s.clock.now();
  return {
    'Node Info/Version': s.version,
    'Node Info/Uptime': BigInt(Math.floor((now - s.startedAt) / 1000)),
    'Upstream/Reconnects': BigInt(s.metrics.counter('fieldgate_upstream_reconnects_total', 'upstream sessions lost').get()),
    'Store/Backlog Messages': BigInt(stats?.depth ?? 0),
    'Store/Backlog Bytes': BigInt(stats?.bytes ?? 0),
    'Store/Oldest Age': BigInt(stats === undefined || stats.oldestCreatedAt === null ? 0 : Math.max(0, now - stats.oldestCreatedAt)),
    'Store/Dropped': BigInt(stats === undefined ? 0 : stats.dropped.budget + stats.dropped.age + stats.dropped.rejected),
    'Devices/Online': devices.filter((d) => d.state === 'online').length,
    'Devices/Total': devices.length,
    'Commands/Received': BigInt(commands.received),
    'Commands/Failed': BigInt(commands.failed),
    'Commands/Last Result': commands.last,
  };
}
