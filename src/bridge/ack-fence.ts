// Acknowledging QoS 0 records. Sparkplug DATA must be QoS 0 [tck-id-topics-ndata-mqtt], which
// has no acknowledgement, yet the outbox may delete a record only once the broker has it. After
// a batch of QoS 0 records a QoS 1 PUBLISH to a fence topic follows, and its PUBACK counts as
// the broker having read every earlier packet. Only `upstream.confirm: fence` uses it (issue 13):
// MQTT orders only messages of one topic and QoS, RabbitMQ routes QoS 0 and QoS 1 apart (a
// fence can overtake the DATA before it), and no broker keeps QoS 0 across a crash, so the
// fence proves "read", never "safe". Even a refusing PUBACK (MQTT 5 reason >= 0x80) counts.
import type { MqttClient } from 'mqtt';
import type { Logger } from '../observe/logger.js';

export class AckFence {
  /** QoS 0 records sent since the last fence, waiting for its PUBACK. */
  private pending: number[] = [];
  private inFlight = false;
  private warned = false;

  constructor(
    readonly topic: string,
    private readonly log: Logger,
  ) {}

  /** A fence is published and its PUBACK not yet in. */
  get waiting(): boolean {
    return this.inFlight;
  }

  add(seq: number): void {
    this.pending.push(seq);
  }

  /** A new session: whatever waited is replayed by the outbox, nothing is acknowledged. */
  reset(): void {
    this.pending = [];
    this.inFlight = false;
  }

  /**
   * Publishes one fence for everything pending (one at a time). `ack` runs for each record once
   * the PUBACK arrives on the same session (`isCurrent` false means the session has changed).
   */
  send(client: MqttClient, isCurrent: () => boolean, ack: (seq: number) => void): void {
    if (this.inFlight || this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.inFlight = true;
    client.publish(this.topic, Buffer.alloc(0), { qos: 1, retain: false }, (err) => {
      if (!isCurrent()) return;
      this.inFlight = false;
      const reason = (err as { code?: unknown } | undefined)?.code;
      if (err !== undefined && err !== null && typeof reason !== 'number') return; // session going down: replayed
      if (typeof reason === 'number' && !this.warned) {
        this.warned = true;
        this.log.warn({ topic: this.topic, reason }, 'upstream refuses the ack fence topic; allow it in the broker ACL (warned once)');
      }
      for (const seq of batch) ack(seq);
    });
  }
}
