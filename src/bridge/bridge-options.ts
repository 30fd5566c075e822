// What the bridge is built from: the outbox, the upstream session, the window and pacing, and
// the hooks the Sparkplug edge node plugs into (Will per CONNECT, drain gate, births on connect).
import type { MqttClient } from 'mqtt';
import type { Logger } from '../observe/logger.js';
import type { MetricsRegistry } from '../observe/metrics.js';
import type { Clock } from '../shared/clock.js';
import type { Outbox, QoS } from '../store/outbox.js';
import type { BackoffPolicy } from './backoff.js';
import type { PacerRate } from './pacer.js';
import type { RecordSender } from './sender.js';
import type { FailoverPolicy } from './server-list.js';
import type { UpstreamSessionConfig } from './upstream-options.js';

export interface BridgeOptions {
  outbox: Outbox;
  /** Edge node identity for the dedup key, `group/node`. */
  node: string;
  session: UpstreamSessionConfig;
  /** Issue 17: every server, in order (`session` is the first); one is live at a time. */
  servers?: readonly UpstreamSessionConfig[];
  /** When to leave a server of `servers` and when to go back to the first (server-list.ts). */
  failover?: FailoverPolicy;
  /** No confirmation for this long while records are in flight ends the session (default 8 s). */
  confirmTimeoutMs?: number;
  inflight: number;
  maxQos: QoS;
  replayRate: PacerRate;
  backoff: BackoffPolicy;
  senders?: Map<string, RecordSender>;
  metrics?: MetricsRegistry;
  logger?: Logger;
  clock?: Clock;
  random?: () => number;
  /** Upstream subscriptions (commands); renewed on every session. */
  subscriptions?: ReadonlyArray<{ filter: string; qos: QoS }>;
  onMessage?: (topic: string, payload: Buffer, userProperties: Record<string, string | string[]> | undefined) => void;
  /** After CONNACK, before any record is sent (the edge node publishes its births here). */
  onConnect?: (client: MqttClient) => void;
  /** When an established session ends (the edge node forgets its births). */
  onDisconnect?: () => void;
  /** Asked before every CONNECT: that session's Will (Sparkplug: an NDEATH with a fresh bdSeq). */
  willFor?: () => { topic: string; payload: Buffer; qos: QoS; retain: boolean };
  /** While false, records wait in the outbox (Sparkplug: until this session's births are out). */
  mayDrain?: () => boolean;
  /**
   * What deletes a record (issue 13, docs/store-and-forward.md): `qos1` its own PUBACK (QoS 0
   * records go at QoS 1); `host` the consumer's ack on `<ackPrefix>/<node>`; `fence` the PUBACK
   * of a later fence PUBLISH on `fenceTopic`. Unset: the fence if `fenceTopic` is set, else a
   * QoS 0 record counts as delivered once written.
   */
  confirm?: 'qos1' | 'host' | 'fence';
  /** confirm: host: the consumer publishes its acks under this prefix (default fieldgate/ack). */
  ackPrefix?: string;
  /** confirm: host: no consumer confirmation for this long while records wait ends the session, which sends them again (host-stall.ts; default 60 s, doubling to 15 min). */
  hostResendAfterMs?: number;
  /** Confirms QoS 0 records by a later QoS 1 PUBLISH here (ack-fence.ts); without it a QoS 0 record counts as delivered once written. */
  fenceTopic?: string;
  /** Identical connect failures in a row are logged at most this often (default 60 s). */
  failureLogIntervalMs?: number;
}

export interface Farewell {
  topic: string;
  payload: Buffer;
  qos: QoS;
}
