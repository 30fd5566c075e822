// Retained messages: one per topic, replaced by the next, cleared by an empty payload
// [MQTT-3.3.1-5..7, MQTT-3.3.1-10]. Indexed in memory, written through to persistence.
import mqtt from 'mqtt-packet';
import type { BrokerPersistence } from './persistence.js';
import { topicMatches } from './topics.js';
import type { Message } from './types.js';

export class RetainedStore {
  private readonly byTopic = new Map<string, Message>();

  constructor(private readonly persistence: BrokerPersistence, private readonly now: () => number) {
    for (const m of persistence.listRetained()) {
      // A message stored before PUBLISH properties were checked (issue 18) may not encode for
      // MQTT 5 subscribers: it would fail every delivery, forever. It is dropped at start.
      if (!encodable(m)) {
        persistence.putRetained({ ...m, payload: Buffer.alloc(0) });
        continue;
      }
      this.byTopic.set(m.topic, m);
    }
  }

  get size(): number {
    return this.byTopic.size;
  }

  put(message: Message): void {
    if (message.payload.length === 0) {
      if (!this.byTopic.delete(message.topic)) return;
    } else {
      // Stored without its publisher: No Local does not apply to retained replays.
      const { origin: _origin, ...stored } = message;
      this.byTopic.set(message.topic, stored);
    }
    this.persistence.putRetained(message);
  }

  /** Retained messages matching a filter; expired ones are removed on the way [MQTT-3.3.2-5]. */
  match(filter: string): Message[] {
    const now = this.now();
    const out: Message[] = [];
    const exact = !filter.includes('+') && !filter.includes('#');
    if (exact) {
      const m = this.byTopic.get(filter);
      if (m !== undefined) this.keepIfFresh(m, now, out);
      return out;
    }
    for (const m of this.byTopic.values()) {
      if (topicMatches(filter, m.topic)) this.keepIfFresh(m, now, out);
    }
    return out;
  }

  private keepIfFresh(m: Message, now: number, out: Message[]): void {
    if (m.expiresAt !== undefined && m.expiresAt <= now) {
      this.byTopic.delete(m.topic);
      this.persistence.putRetained({ ...m, payload: Buffer.alloc(0) });
      return;
    }
    out.push(m);
  }
}

function encodable(m: Message): boolean {
  try {
    mqtt.generate({ cmd: 'publish', topic: m.topic, payload: m.payload, qos: 1, messageId: 1, retain: true, dup: false, ...(m.properties !== undefined ? { properties: m.properties } : {}) }, { protocolVersion: 5 });
    return true;
  } catch {
    return false;
  }
}
