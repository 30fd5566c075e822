// Local topics going upstream (through the outbox, so they share its durability, budget and
// dedup key) and upstream topics coming down as commands. Loop prevention, three layers:
//  1. a message that came down from the upstream is never forwarded back up (origin tag);
//  2. on MQTT 5 the command subscriptions use No Local [MQTT-3.8.3-3], so the upstream never
//     echoes our own forwarded messages back to us;
//  3. a configuration whose forwarded topics would match a command filter is refused at start.
import type { Logger } from '../observe/logger.js';
import { silentLogger } from '../observe/logger.js';
import { FieldgateError } from '../errors.js';
import type { AppendQueue } from '../store/append-queue.js';
import type { QoS } from '../store/outbox.js';
import { filtersOverlap, mapTopic, topicMatches } from '../mqtt/topic-filter.js';

export interface TopicRule {
  from: string;
  to?: string | undefined;
  qos: QoS;
}

export type Origin = 'local' | 'upstream';

export interface LocalMessage {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  origin: Origin;
}

/** Refuses rule sets that would send a forwarded message straight back down (layer 3). */
export function checkRules(forward: readonly TopicRule[], commands: readonly TopicRule[]): void {
  forward.forEach((f, i) => {
    // Mapping the filter itself gives the filter of everything this rule sends upstream.
    const sends = mapTopic(f.from, f.to, f.from);
    commands.forEach((c, j) => {
      if (filtersOverlap(sends, c.from)) {
        throw new FieldgateError(
          'FG_ERR_CONFIG',
          `upstream.forward[${i}] sends ${sends}, which upstream.commands[${j}] (${c.from}) would bring back down: a forwarding loop`,
        );
      }
    });
  });
}

export class Forwarder {
  private readonly log: Logger;
  forwarded = 0;
  suppressed = 0;

  constructor(
    private readonly rules: readonly TopicRule[],
    private readonly queue: AppendQueue,
    logger?: Logger,
  ) {
    this.log = logger ?? silentLogger();
  }

  /**
   * Called for every message the local broker accepts. Resolves once the forwarded copy is
   * durable in the outbox (or at once when no rule applies).
   */
  async onLocalPublish(m: LocalMessage): Promise<void> {
    if (m.origin === 'upstream') {
      this.suppressed++;
      return;
    }
    for (const rule of this.rules) {
      if (!topicMatches(rule.from, m.topic)) continue;
      const topic = mapTopic(rule.from, rule.to, m.topic);
      const qos = Math.min(rule.qos, m.qos) as QoS;
      try {
        await this.queue.enqueue({ kind: 'mqtt', topic, payload: m.payload, qos, retain: m.retain });
        this.forwarded++;
      } catch (e) {
        this.log.error({ topic: m.topic, upstreamTopic: topic, err: (e as Error).message }, 'could not queue a forwarded message');
        throw e;
      }
      return; // first matching rule wins
    }
  }
}

export class CommandRouter {
  delivered = 0;
  unmatched = 0;

  constructor(
    private readonly rules: readonly TopicRule[],
    private readonly publishLocal: (m: LocalMessage) => void,
  ) {}

  /** Subscriptions the bridge makes on every session. */
  subscriptions(): Array<{ filter: string; qos: QoS }> {
    return this.rules.map((r) => ({ filter: r.from, qos: r.qos }));
  }

  onUpstreamMessage(topic: string, payload: Buffer): void {
    for (const rule of this.rules) {
      if (!topicMatches(rule.from, topic)) continue;
      this.publishLocal({ topic: mapTopic(rule.from, rule.to, topic), payload, qos: rule.qos, retain: false, origin: 'upstream' });
      this.delivered++;
      return;
    }
    this.unmatched++;
  }
}
