import type { MetricsRegistry } from '../observe/metrics.js';

export function runtimeMetrics(registry: MetricsRegistry) {
  return {
    polls: registry.counter('fieldgate_device_polls_total', 'polls by device and result (ok, error, timeout)'),
    pollSeconds: registry.histogram('fieldgate_device_poll_duration_seconds', 'time one poll of a device took', [
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
    ]),
    overruns: registry.counter('fieldgate_device_poll_overruns_total', 'poll slots skipped because the previous poll ran past them'),
    online: registry.gauge('fieldgate_device_online', '1 when the device is online, 0 otherwise'),
    updates: registry.counter('fieldgate_tag_updates_total', 'tag updates reported downstream, by device and reason'),
    writes: registry.counter('fieldgate_device_writes_total', 'writes to devices by result (ok, rejected, failed)'),
    reconnects: registry.counter('fieldgate_device_connect_attempts_total', 'connection attempts by device'),
  };
}

export type RuntimeMetrics = ReturnType<typeof runtimeMetrics>;
