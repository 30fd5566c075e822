// From `upstream:` config to mqtt.js client options. mqtt.js never reconnects by itself here:
// the bridge owns reconnection (backoff with jitter) and starts every session with a fresh
// client, so mqtt.js' in-memory outgoing store cannot resend anything behind the outbox's back.
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { QoS } from '../store/outbox.js';
import { SessionIdProvider } from './packet-ids.js';
import { FieldgateError, errorMessage } from '../errors.js';

export interface UpstreamSessionConfig {
  url: string;
  protocolVersion: 4 | 5;
  clientId: string;
  username?: string | undefined;
  password?: string | undefined;
  tls?: { ca?: string | undefined; cert?: string | undefined; key?: string | undefined; rejectUnauthorized: boolean; servername?: string | undefined } | undefined;
  keepaliveMs: number;
  connectTimeoutMs: number;
}

function readPem(what: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new FieldgateError('FG_ERR_UPSTREAM_TLS', `cannot read the upstream TLS ${what} file ${path}: ${errorMessage(e)}`, { cause: e });
  }
}

/** Reads the TLS files once (at start), so a missing file is reported before any connect. */
export function buildClientOptions(cfg: UpstreamSessionConfig): IClientOptions {
  const opts: IClientOptions = {
    protocolVersion: cfg.protocolVersion,
    clientId: cfg.clientId,
    // Sparkplug requires a clean session [tck-id-principles-persistence-clean-session-311]
    // and, on v5, Session Expiry 0 [tck-id-principles-persistence-clean-session-50]; the
    // outbox, not the broker, is what remembers unsent data.
    clean: true,
    reconnectPeriod: 0,
    keepalive: Math.max(1, Math.round(cfg.keepaliveMs / 1000)),
    connectTimeout: cfg.connectTimeoutMs,
    resubscribe: false,
    queueQoSZero: false,
    // mqtt.js' default `debug` logger is called several times per PUBLISH even when disabled:
    // 5.6% of the drain's CPU in the profile. The bridge logs what matters through pino.
    log: () => undefined,
  };
  if (cfg.protocolVersion === 5) opts.properties = { sessionExpiryInterval: 0 };
  if (cfg.username !== undefined) opts.username = cfg.username;
  if (cfg.password !== undefined) opts.password = cfg.password;
  const tls = cfg.tls;
  if (tls !== undefined) {
    if (tls.ca !== undefined) opts.ca = readPem('CA', tls.ca);
    if (tls.cert !== undefined) opts.cert = readPem('certificate', tls.cert);
    if (tls.key !== undefined) opts.key = readPem('key', tls.key);
    opts.rejectUnauthorized = tls.rejectUnauthorized;
    if (tls.servername !== undefined) opts.servername = tls.servername;
  }
  return opts;
}

/** A fresh mqtt.js client for one session, with that session's Will (Sparkplug: NDEATH). */
export function connectClient(cfg: UpstreamSessionConfig, will: { topic: string; payload: Buffer; qos: QoS; retain: boolean } | undefined): MqttClient {
  const options = buildClientOptions(cfg);
  if (will !== undefined) options.will = { topic: will.topic, payload: will.payload, qos: will.qos, retain: will.retain };
  // mqtt.js' own publishes and subscriptions take ids from the low range only; the drain's
  // records use the rest (packet-ids.ts).
  options.messageIdProvider = new SessionIdProvider();
  return mqtt.connect(cfg.url, options);
}
