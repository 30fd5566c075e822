// From an outbox record to what the wire carries: the sender for its kind, and the QoS it goes
// at (upstream.confirm: qos1 lifts QoS 0 to 1, issue 13; never above what the session allows).
import type { Logger } from '../observe/logger.js';
import type { Counter } from '../observe/metrics.js';
import type { OutboxRecord, QoS } from '../store/outbox.js';
import { sendAsIs, type OutgoingMessage, type RecordSender } from './sender.js';

export class RecordMessages {
  private warnedQos = false;

  constructor(
    private readonly senders: Map<string, RecordSender>,
    private readonly log: Logger,
    private readonly unsendable: Counter,
    private readonly node: string,
    private readonly epoch: string,
  ) {}

  /**
   * The message for `r`, or undefined when there is none to send and the record has left the
   * outbox by design. Throws when its sender cannot encode it now (the caller restarts the
   * session, and the record is sent again).
   */
  message(r: OutboxRecord, protocolVersion: 4 | 5, replay: boolean): OutgoingMessage | undefined {
    const sender = this.senders.get(r.kind);
    if (sender === undefined) {
      // A record nobody can send would block the queue forever: log it and count it as
      // dropped, so the loss is visible rather than silent.
      this.log.error({ seq: r.seq, kind: r.kind, topic: r.topic }, 'no sender for this record kind: dropped');
      this.unsendable.inc();
      return undefined;
    }
    // `mqtt` records go as stored: no context to build (two objects per record otherwise).
    // Undefined from a sender: nothing to say any more (a Sparkplug lifecycle record the
    // births already cover).
    return sender === sendAsIs ? r : sender(r, { key: { node: this.node, epoch: this.epoch, seq: r.seq }, protocolVersion, replay });
  }

  /** qos1: DATA / DEATH (any QoS 0 record) at QoS 1, deleted on its own PUBACK. */
  qos(msg: OutgoingMessage, liftQos0: boolean, maxQos: QoS): QoS {
    const qos: QoS = msg.qos === 0 && liftQos0 ? 1 : msg.qos;
    if (qos <= maxQos) return qos;
    if (!this.warnedQos) {
      this.warnedQos = true;
      this.log.warn({ topic: msg.topic, qos, maxQos }, 'upstream supports a lower QoS: records downgraded (warned once)');
    }
    return maxQos;
  }
}
