// Will messages (MQTT 5.0 §3.1.2.5, §3.1.3.2.2): published when a connection ends without a
// normal DISCONNECT, after the Will Delay Interval if there is one, unless the client comes
// back first [MQTT-3.1.3-9]. A will is a PUBLISH by its client, so its ACL applies.
import type { Logger } from '../observe/logger.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
import type { Acl } from './acl.js';
import type { BrokerMetrics } from './metrics.js';
import type { Message } from './types.js';

// setTimeout holds at most 2^31-1 ms; a will delay is at most 2^32-1 s, capped by the session expiry.
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Pending {
  timer: TimerHandle;
  message: Message;
  username: string | undefined;
}

export class Wills {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly clock: Clock,
    private readonly acl: Acl,
    private readonly metrics: BrokerMetrics,
    private readonly logger: Logger,
    private readonly route: (message: Message) => number,
  ) {}

  publish(message: Message, username: string | undefined, clientId: string): void {
    if (message.topic.startsWith('$SYS/') || !this.acl.canPublish(username, clientId, message.topic)) {
      this.metrics.dropped.inc({ reason: 'acl' });
      return;
    }
    this.logger.debug({ clientId, topic: message.topic }, 'publishing will');
    this.route(message);
  }

  schedule(clientId: string, username: string | undefined, message: Message, ms: number): void {
    this.cancel(clientId);
    const timer = this.clock.setTimeout(() => {
      this.pending.delete(clientId);
      this.publish(message, username, clientId);
    }, Math.min(ms, MAX_TIMER_MS));
    this.pending.set(clientId, { timer, message, username });
  }

  /** The client is back before the delay ran out: no will [MQTT-3.1.3-9]. */
  cancel(clientId: string): void {
    const w = this.pending.get(clientId);
    if (w === undefined) return;
    this.clock.clearTimeout(w.timer);
    this.pending.delete(clientId);
  }

  /** The session ends before the delay does: the will goes now (MQTT 5.0 §3.1.3.2.2). */
  publishNow(clientId: string): void {
    const w = this.pending.get(clientId);
    if (w === undefined) return;
    this.cancel(clientId);
    this.publish(w.message, w.username, clientId);
  }

  clear(): void {
    for (const w of this.pending.values()) this.clock.clearTimeout(w.timer);
    this.pending.clear();
  }
}
