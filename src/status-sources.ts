// The values behind the status page (observe/status-model.ts), read from the parts that know
// them through their public accessors. The broker and upstream are passed as getters because
// the gateway builds them in start(), after the status page is wired.
import type { Broker } from './broker/index.js';
import type { GatewayConfig } from './config/schema.js';
import type { StatusSources } from './observe/status-model.js';
import type { Clock } from './shared/clock.js';
import type { Runtime } from './runtime/runtime.js';
import type { UpstreamPath } from './upstream.js';

export interface StatusParts {
  config: GatewayConfig;
  runtime: Runtime;
  clock: Clock;
  version: string;
  startedAt: number;
  broker: () => Broker | undefined;
  upstream: () => UpstreamPath | undefined;
}

export function statusSources(p: StatusParts): StatusSources {
  const units = new Map<string, string>();
  for (const d of p.config.devices) for (const t of d.tags) if (t.unit !== undefined) units.set(`${d.name}/${t.name}`, t.unit);
  return {
    site: { group: p.config.site.group, node: p.config.site.node, version: p.version, startedAt: p.startedAt },
    now: () => p.clock.now(),
    devices: () => p.runtime.devices(),
    units,
    upstream: () => {
      const u = p.upstream();
      if (u === undefined) return undefined;
      const stats = u.store.outbox.stats();
      const drain = u.bridge.drainEstimate();
      // The bridge's ETA is already -1 while the link is down (nothing drains then).
      const eta = stats.depth === 0 ? 0 : drain.etaSeconds < 0 ? -1 : Math.ceil(drain.etaSeconds);
      return {
        connected: u.bridge.isConnected,
        born: u.edgeNode.isBorn,
        bdSeq: u.edgeNode.currentBdSeq,
        backlog: stats.depth,
        backlogBytes: stats.bytes,
        oldestAgeSeconds: Math.round(drain.oldestAgeSeconds),
        replayRate: Math.round(drain.rate * 10) / 10,
        etaSeconds: eta,
        dropped: { ...stats.dropped },
        servers: u.bridge.servers.status(),
        switches: u.bridge.servers.switchesTotal,
      };
    },
    broker: () => {
      const b = p.broker();
      if (b === undefined) return undefined;
      return { listeners: b.addresses(), retained: b.retainedCount, clients: b.clients() };
    },
  };
}
