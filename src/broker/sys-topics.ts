// Retained `$SYS/broker/...` statistics, as Mosquitto publishes them, for site tools that expect them.
import type { Clock, TimerHandle } from '../shared/clock.js';
import type { BrokerCore } from './core.js';

export class SysTopics {
  private timer: TimerHandle | undefined;
  private running = false;

  constructor(private readonly core: BrokerCore, private readonly clock: Clock, private readonly intervalMs: number) {}

  start(): void {
    this.running = true;
    this.publish();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private publish(): void {
    if (!this.running) return;
    const m = this.core.metrics;
    const values: Record<string, number> = {
      'clients/connected': this.core.connectedCount(),
      'clients/total': this.core.sessions.size,
      'messages/received': m.messagesIn.get(),
      'messages/sent': m.messagesOut.get(),
      'bytes/received': m.bytesIn.get(),
      'bytes/sent': m.bytesOut.get(),
      'retained messages/count': this.core.retained.size,
      'subscriptions/count': this.core.tree.size,
      'messages/queued': this.core.queuedCount(),
      'auth/failures': m.authFailures.get(),
    };
    for (const [k, v] of Object.entries(values)) {
      this.core.route({ topic: `$SYS/broker/${k}`, payload: Buffer.from(String(v)), qos: 0, retain: true });
    }
    this.timer = this.clock.setTimeout(() => this.publish(), this.intervalMs);
  }
}
