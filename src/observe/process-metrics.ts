import type { MetricsRegistry } from './metrics.js';

/** RSS, heap, CPU and uptime: what a small box runs out of first. Read at scrape time. */
export function registerProcessMetrics(metrics: MetricsRegistry, startedAt: number): void {
  metrics.gauge('fieldgate_process_resident_memory_bytes', 'resident set size').collect(() => [[undefined, process.memoryUsage.rss()]]);
  metrics.gauge('fieldgate_process_heap_used_bytes', 'V8 heap in use').collect(() => [[undefined, process.memoryUsage().heapUsed]]);
  metrics.gauge('fieldgate_process_cpu_seconds', 'user + system CPU time used').collect(() => {
    const u = process.cpuUsage();
    return [[undefined, (u.user + u.system) / 1e6]];
  });
  metrics.gauge('fieldgate_process_uptime_seconds', 'time since the gateway started').collect(() => [[undefined, (Date.now() - startedAt) / 1000]]);
}
