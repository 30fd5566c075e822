// What a broker says without saying it (issue 13, RabbitMQ as a first-class upstream):
// - MQTT 5 refused before CONNACK. RabbitMQ 3.10 closes the connection on a v5 CONNECT without
//   a CONNACK; a v5 broker that does not want v5 answers 0x84 (unsupported protocol version).
//   Either way the bridge goes on with 3.1.1 for the rest of the run and says so once.
// - A session closed by the broker right after a given publish, again and again: on MQTT 3.1.1
//   that is how a broker refuses a topic (RabbitMQ's topic permissions, mosquitto's ACL with
//   some settings). After REFUSAL_REPEATS such sessions in a row with the same suspect topic the
//   tight loop stops: one FG_ERR_ line naming the topic and the permission, a counter, and the
//   longest backoff step, so births are not re-sent every second.
// - A command on `spBv1/0/...`: RabbitMQ without `mqtt.sparkplug = true` turned the `.` of
//   `spBv1.0` into a `/`. Logged once with the fix.
import type { Logger } from '../observe/logger.js';
import { MetricsRegistry, type Counter } from '../observe/metrics.js';

/** Sessions in a row closed right after the same topic before it counts as refused. */
export const REFUSAL_REPEATS = 3;
/** A session that ends sooner than this, closed by the broker, counts towards a refusal. */
const SHORT_SESSION_MS = 10_000;

export class UpstreamGuard {
  /** The version to CONNECT with: the configured one until a v5 refusal. */
  protocolVersion: 4 | 5;
  private errored = -1;
  private silentCloses = 0;
  private suspect: string | undefined;
  private repeats = 0;
  private readonly reported = new Set<string>();
  private warnedSparkplugTopic = false;
  private readonly refusedTopic: Counter;

  constructor(
    private readonly log: Logger,
    configured: 4 | 5,
    private readonly url: string,
    registry: MetricsRegistry | undefined,
  ) {
    this.protocolVersion = configured;
    this.refusedTopic = (registry ?? new MetricsRegistry()).counter(
      'fieldgate_upstream_topic_refusals_total',
      'upstream sessions the broker closed right after the same topic, repeatedly (MQTT 3.1.1 refusal of a topic: missing publish permission)',
    );
  }

  /** An error event on attempt `gen` (before or after CONNACK). */
  error(gen: number, code: unknown): boolean {
    this.errored = gen;
    // CONNACK 0x84 Unsupported Protocol Version (MQTT 5 section 3.2.2.2): go to 3.1.1.
    return code === 0x84 ? this.fallBack('the broker answered CONNACK 0x84 (unsupported protocol version)') : false;
  }

  /**
   * Attempt `gen` closed before any CONNACK, after `elapsedMs`. True when the bridge should try
   * again at once: no error (a refused or reset TCP connection reports one) and well within the
   * connect timeout (a timeout is no refusal). The first such close retries MQTT 5 (a broker
   * shutting down can close one CONNECT that way); the second in a row falls back to 3.1.1.
   */
  closedBeforeConnack(gen: number, elapsedMs: number, connectTimeoutMs: number): boolean {
    if (this.protocolVersion !== 5 || this.errored === gen || elapsedMs >= connectTimeoutMs / 2) {
      this.silentCloses = 0;
      return false;
    }
    this.silentCloses += 1;
    if (this.silentCloses < 2) return true;
    return this.fallBack('the broker closed the connection after an MQTT 5 CONNECT without a CONNACK, twice (RabbitMQ before 3.13 speaks only 3.1.1)');
  }

  /** A CONNACK arrived. */
  connected(): void {
    this.silentCloses = 0;
  }

  private fallBack(why: string): boolean {
    if (this.protocolVersion !== 5) return false;
    this.protocolVersion = 4;
    this.log.warn({ url: this.url, code: 'FG_ERR_UPSTREAM_PROTOCOL' }, `${why}: using MQTT 3.1.1 for the rest of this run; set upstream.protocolVersion: 4 to pin it and skip the MQTT 5 attempt`);
    return true;
  }

  /**
   * An established session ended. `byBroker`: not our doing (no stop, no protocol error of
   * ours). `suspect`: the topic most likely refused. Returns a reconnect delay to use instead
   * of the usual backoff step when the topic is taken as refused.
   */
  sessionEnded(durationMs: number, byBroker: boolean, suspect: string | undefined, maxDelayMs: number): number | undefined {
    if (!byBroker || durationMs >= SHORT_SESSION_MS || suspect === undefined) {
      this.suspect = undefined;
      this.repeats = 0;
      return undefined;
    }
    if (suspect === this.suspect) this.repeats += 1;
    else {
      this.suspect = suspect;
      this.repeats = 1;
    }
    if (this.repeats < REFUSAL_REPEATS) return undefined;
    this.refusedTopic.inc();
    if (!this.reported.has(suspect)) {
      this.reported.add(suspect);
      this.log.error(
        {
          code: 'FG_ERR_UPSTREAM_TOPIC_REFUSED',
          url: this.url,
          topic: suspect,
          sessions: this.repeats,
          rabbitmqRoutingKey: suspect.replace(/\//g, '.'),
          retryInMs: maxDelayMs,
        },
        `the upstream closed the session right after a publish to ${suspect}, ${this.repeats} times in a row: grant this client publish (write) permission on that topic (RabbitMQ: topic permission "write" on exchange amq.topic matching routing key ${suspect.replace(/\//g, '.')}); retrying at the longest backoff step`,
      );
    }
    return maxDelayMs;
  }

  /** Every upstream message: the almost-Sparkplug topic is reported once, with the fix. */
  message(topic: string): void {
    if (this.warnedSparkplugTopic || !topic.startsWith('spBv1/0/')) return;
    this.warnedSparkplugTopic = true;
    this.log.warn(
      { code: 'FG_ERR_UPSTREAM_SPARKPLUG_TOPIC', topic },
      'a command arrived on spBv1/0/... instead of spBv1.0/...: the broker maps "." to "/" (RabbitMQ: set mqtt.sparkplug = true in rabbitmq.conf); ignored (warned once)',
    );
  }
}
