// From the validated `upstream:` section to the bridge's options. The gateway composition
// root calls this; it adds the outbox, logger, metrics and the Sparkplug hooks.
import type { UpstreamConfig } from '../config/sections/upstream.js';
import type { SiteConfig } from '../config/sections/site.js';
import type { BridgeOptions } from './bridge.js';
import type { UpstreamSessionConfig } from './upstream-options.js';

/** The first server's session (the only one with `upstream.url`). */
export function sessionFromConfig(cfg: UpstreamConfig, site: Pick<SiteConfig, 'group' | 'node'>): UpstreamSessionConfig {
  return sessionsFromConfig(cfg, site)[0] as UpstreamSessionConfig;
}

/** Issue 17: one session config per server, in order; a server inherits what it leaves out. */
export function sessionsFromConfig(cfg: UpstreamConfig, site: Pick<SiteConfig, 'group' | 'node'>): UpstreamSessionConfig[] {
  const servers = cfg.servers ?? [{ url: cfg.url ?? '' }];
  return servers.map((s) => ({
    url: s.url,
    protocolVersion: s.protocolVersion ?? cfg.protocolVersion,
    clientId: cfg.clientId ?? `fieldgate-${site.group}-${site.node}`,
    username: s.username ?? cfg.username,
    password: s.password ?? cfg.password,
    tls: s.tls ?? cfg.tls,
    keepaliveMs: cfg.keepalive,
    connectTimeoutMs: cfg.connectTimeout,
  }));
}

export function bridgeOptionsFromConfig(
  cfg: UpstreamConfig,
  site: Pick<SiteConfig, 'group' | 'node'>,
): Omit<BridgeOptions, 'outbox'> {
  return {
    node: `${site.group}/${site.node}`,
    session: sessionFromConfig(cfg, site),
    servers: sessionsFromConfig(cfg, site),
    failover: { retries: cfg.failover.retries, preferFirst: cfg.failover.preferFirst, dwellMs: cfg.failover.dwell },
    inflight: cfg.inflight,
    maxQos: cfg.maxQos,
    confirm: cfg.confirm,
    ackPrefix: cfg.ackPrefix,
    replayRate: cfg.replay.rate,
    backoff: { minMs: cfg.reconnect.min, maxMs: cfg.reconnect.max, jitter: cfg.reconnect.jitter },
  };
}
