// Issue 17: the upstream as an ordered list of MQTT servers, connected one at a time (Sparkplug
// 3.0, "Multiple MQTT Server Topology": an edge node is connected to one server at a time and,
// when the primary host is offline there [tck-id-message-flow-edge-node-birth-publish-phid-offline],
// disconnects and walks to the next). This module is the policy only: which server the next
// CONNECT goes to and after what delay. The bridge owns the sessions; every switch is simply its
// usual new session (fresh mqtt.js client, NDEATH Will with a new bdSeq, births, then the outbox),
// and acks of a left session never count (drain.ts binds every ack callback to its session).
//
// When to leave a server:
// - connection lost: `retries` failed reconnects to it first (a broker restart is often quicker
//   than a new session elsewhere), then the next server;
// - the primary host's STATE there says offline (the edge node asks, `hostOffline`): at once;
// - preferFirst: on another server for `dwell`, and the first one accepts TCP connections again.
// Never flapping: after a whole round of the list without a settled session (one that lasted
// STABLE_MS, or SETTLED_LOSS_MS when the connection ended it) every further switch waits the
// reconnect backoff, growing to reconnect.max; a return to the first server that does not
// settle doubles the dwell before the next return.
import type { Logger } from '../observe/logger.js';
import { MetricsRegistry, type Counter } from '../observe/metrics.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
import { backoffDelay, type BackoffPolicy } from './backoff.js';
import { ConnectFailures } from './connect-failures.js';
import { tcpReachable } from './tcp-probe.js';
import { UpstreamGuard } from './upstream-guard.js';
import type { UpstreamSessionConfig } from './upstream-options.js';

export interface FailoverPolicy {
  /** Failed reconnects to the same server after a loss before walking to the next (0: walk at once). */
  retries: number;
  preferFirst: boolean;
  dwellMs: number;
}

export const DEFAULT_FAILOVER: FailoverPolicy = { retries: 1, preferFirst: true, dwellMs: 300_000 };

/** A session that lasted this long counts as settled: the walk and the dwell start over. */
const STABLE_MS = 10_000;
/** A session lost by the connection (not left for an offline host) settles sooner. */
const SETTLED_LOSS_MS = 2_000;
/** Longest dwell after returns to the first server that did not settle. */
const MAX_DWELL_MS = 24 * 3600_000;
/** While the first server refuses TCP, it is probed again this often (or the dwell, if shorter). */
const PROBE_EVERY_MS = 30_000;

export type SwitchReason = 'connection' | 'host_offline' | 'prefer_first';

export interface ServerEntry {
  readonly index: number;
  readonly session: UpstreamSessionConfig;
  /** Per server: MQTT 5 fallback and refusal detection are facts about one broker. */
  readonly guard: UpstreamGuard;
  readonly failures: ConnectFailures;
  connectedMs: number;
  lastLeft: SwitchReason | undefined;
}

export interface ServerStatus {
  url: string;
  live: boolean;
  connectedSeconds: number;
  lastLeft: SwitchReason | undefined;
}

export interface ServerListOptions {
  servers: readonly UpstreamSessionConfig[];
  policy: FailoverPolicy;
  backoff: BackoffPolicy;
  clock: Clock;
  random: () => number;
  log: Logger;
  metrics: MetricsRegistry | undefined;
  failureLogIntervalMs: number | undefined;
  /** Ends the live session (the bridge then asks `next`): used to return to the first server. */
  leave: () => void;
}

/** The URL without userinfo: fit for a log line, a metric label and the status page. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//');
  }
}

export class ServerList {
  readonly entries: ServerEntry[];
  private index = 0;
  private failuresHere = 0;
  /** Switches since the last settled session. */
  private walked = 0;
  private pending: SwitchReason | undefined;
  private ended = false;
  private upSince: number | undefined;
  private dwellMs: number;
  private returning = false;
  private probeTimer: TimerHandle | undefined;
  private stopped = false;
  private readonly switches: Counter;
  private switchCount = 0;

  constructor(private readonly options: ServerListOptions) {
    this.entries = options.servers.map((session, index) => ({
      index,
      session,
      guard: new UpstreamGuard(options.log, session.protocolVersion, displayUrl(session.url), options.metrics),
      failures: new ConnectFailures(options.log, displayUrl(session.url), () => options.clock.monotonic(), options.failureLogIntervalMs),
      connectedMs: 0,
      lastLeft: undefined,
    }));
    this.dwellMs = options.policy.dwellMs;
    const r = options.metrics ?? new MetricsRegistry();
    this.switches = r.counter('fieldgate_upstream_switches_total', 'moves from one upstream server of upstream.servers to another, by reason (connection, host_offline, prefer_first)');
    r.gauge('fieldgate_upstream_server_live', '1 for the upstream server the live session is on, 0 for the others').collect(() =>
      this.entries.map((e) => [{ server: displayUrl(e.session.url) }, e.index === this.index && this.upSince !== undefined ? 1 : 0]),
    );
    r.gauge('fieldgate_upstream_server_connected_seconds', 'time connected to each upstream server this run').collect(() =>
      this.entries.map((e) => [{ server: displayUrl(e.session.url) }, this.connectedMs(e) / 1000]),
    );
  }

  get current(): ServerEntry {
    return this.entries[this.index] as ServerEntry;
  }

  get size(): number {
    return this.entries.length;
  }

  get switchesTotal(): number {
    return this.switchCount;
  }

  /** A CONNACK on the current server. */
  connected(): void {
    this.stopped = false; // a bridge started again after stop()
    this.upSince = this.options.clock.monotonic();
    this.failuresHere = 0;
    if (this.index !== 0 && this.options.policy.preferFirst && this.size > 1) this.scheduleProbe(this.dwellMs);
  }

  /** The primary host's STATE on the current server says offline: leave it at the next reconnect. */
  hostOffline(): void {
    if (this.size > 1) this.pending = 'host_offline';
  }

  /** An established session ended (whatever the cause). */
  lost(): void {
    this.cancelProbe();
    const since = this.upSince;
    this.upSince = undefined;
    this.ended = true;
    if (since === undefined) return;
    const lasted = this.options.clock.monotonic() - since;
    this.current.connectedMs += lasted;
    if (lasted >= STABLE_MS || (this.pending === undefined && lasted >= SETTLED_LOSS_MS)) {
      this.walked = 0;
      if (this.index === 0) this.dwellMs = this.options.policy.dwellMs;
    }
    if (this.returning && this.index === 0 && lasted < STABLE_MS) this.dwellMs = Math.min(MAX_DWELL_MS, this.dwellMs * 2);
    this.returning = false;
  }

  /**
   * Where and when the next CONNECT goes, given the bridge's usual backoff `delayMs` for a
   * retry of the same server (`penaltyMs`: the guard's longer delay for a refused topic).
   * `switched`: a new server (the bridge restarts its backoff).
   */
  next(delayMs: number, penaltyMs?: number): { delayMs: number; switched: boolean } {
    const afterLoss = this.ended;
    this.ended = false;
    if (this.size === 1) return { delayMs: penaltyMs ?? delayMs, switched: false };
    if (afterLoss) {
      // A penalty (upstream-guard.ts: sessions closed right after the same topic, taken as a
      // refusal) would hold the gateway on this server for reconnect.max; a crash-looping node
      // looks the same. Another server may accept: walk on (the round backoff bounds it).
      const reason = this.pending ?? (this.options.policy.retries === 0 || penaltyMs !== undefined ? 'connection' : undefined);
      this.pending = undefined;
      if (reason !== undefined) return this.switchTo(reason === 'prefer_first' ? 0 : this.index + 1, reason);
      return { delayMs, switched: false };
    }
    // A failed attempt (no CONNACK).
    if (this.returning && this.index === 0) this.dwellMs = Math.min(MAX_DWELL_MS, this.dwellMs * 2);
    this.returning = false;
    this.failuresHere += 1;
    if (this.failuresHere < Math.max(1, this.options.policy.retries)) return { delayMs, switched: false };
    return this.switchTo(this.index + 1, 'connection');
  }

  stop(): void {
    this.stopped = true;
    this.cancelProbe();
  }

  status(): ServerStatus[] {
    return this.entries.map((e) => ({
      url: displayUrl(e.session.url),
      live: e.index === this.index && this.upSince !== undefined,
      connectedSeconds: Math.round(this.connectedMs(e) / 100) / 10,
      lastLeft: e.lastLeft,
    }));
  }

  private connectedMs(e: ServerEntry): number {
    const open = e.index === this.index && this.upSince !== undefined ? this.options.clock.monotonic() - this.upSince : 0;
    return e.connectedMs + open;
  }

  private switchTo(target: number, reason: SwitchReason): { delayMs: number; switched: boolean } {
    const from = this.current;
    from.lastLeft = reason;
    this.index = target % this.size;
    this.failuresHere = 0;
    this.walked += 1;
    this.returning = reason === 'prefer_first';
    this.switches.inc({ reason });
    this.switchCount += 1;
    // The first round walks at once; after it every switch waits the growing backoff.
    const delayMs = reason === 'prefer_first' || this.walked <= this.size ? 0 : backoffDelay(this.walked - this.size - 1, this.options.backoff, this.options.random);
    this.options.log.warn({ code: 'FG_ERR_UPSTREAM_SWITCH', from: displayUrl(from.session.url), to: displayUrl(this.current.session.url), reason, delayMs }, 'upstream: moving to another server');
    return { delayMs, switched: true };
  }

  private scheduleProbe(afterMs: number): void {
    this.cancelProbe();
    this.probeTimer = this.options.clock.setTimeout(() => {
      this.probeTimer = undefined;
      void this.probe();
    }, afterMs);
  }

  private async probe(): Promise<void> {
    const first = this.entries[0] as ServerEntry;
    const ok = await tcpReachable(first.session.url, Math.min(first.session.connectTimeoutMs, 5000));
    // Still on the same session, not stopped meanwhile?
    if (this.stopped || this.upSince === undefined || this.index === 0) return;
    if (!ok) return this.scheduleProbe(Math.min(this.dwellMs, PROBE_EVERY_MS));
    this.pending = 'prefer_first';
    this.options.leave();
  }

  private cancelProbe(): void {
    if (this.probeTimer !== undefined) this.options.clock.clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
  }
}
