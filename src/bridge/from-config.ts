// From the validated `upstream:` section to the bridge's options. The gateway composition
// root calls this; it adds the outbox, logger, metrics and the Sparkplug hooks.
import type { UpstreamConfig } from '../config/sections/upstream.js';
import type { SiteConfig } from '../config/sections/site.js';
import type { BridgeOptions } from './bridge.js';
import type { UpstreamSessionConfig } from './upstream-options.js';

export function sessionFromConfig(cfg: UpstreamConfig, site: Pick<SiteConfig, 'group' | 'node'>): UpstreamSessionConfig {
  return {
    url: cfg.url,
    protocolVersion: cfg.protocolVersion,
    clientId: cfg.clientId ?? `fieldgate-${site.group}-${site.node}`,
    username: cfg.username,
    password: cfg.password,
    tls: cfg.tls,
    keepaliveMs: cfg.keepalive,
    connectTimeoutMs: cfg.connectTimeout,
  };
}

export function bridgeOptionsFromConfig(
  cfg: UpstreamConfig,
  site: Pick<SiteConfig, 'group' | 'node'>,
): Omit<BridgeOptions, 'outbox'> {
  return {
    node: `${site.group}/${site.node}`,
    session: sessionFromConfig(cfg, site),
    inflight: cfg.inflight,
    maxQos: cfg.maxQos,
    confirm: cfg.confirm,
    ackPrefix: cfg.ackPrefix,
    replayRate: cfg.replay.rate,
    backoff: { minMs: cfg.reconnect.min, maxMs: cfg.reconnect.max, jitter: cfg.reconnect.jitter },
  };
}
