// A central consumer for `upstream.confirm: host` tests (issue 13), on any MQTT broker: it
// subscribes to the data, dedups with the reference Deduper, "commits" every `commitMs` (here:
// moves what it accepted into `committed`), then publishes Deduper.acks() retained at QoS 1 -
// and all of its acks again after each of its own reconnects (the broker may have lost the
// retained ones). The protocol: docs/store-and-forward.md, "The host confirmation protocol".
import mqtt from 'mqtt';
import { extractDedupKey, type DedupKey } from '../../src/bridge/dedup-key.js';
import { Deduper } from '../../src/bridge/deduper.js';

export interface CommittedMessage {
  key: DedupKey;
  topic: string;
  payload: Buffer;
}

export interface HostAckConsumerOptions {
  /** Subscription filter for the data. Default: every Sparkplug topic. */
  filter?: string;
  protocolVersion?: 4 | 5;
  commitMs?: number;
  clientId?: string;
  /** upstream.ackPrefix. Default fieldgate/ack. */
  prefix?: string;
}

export class HostAckConsumer {
  readonly deduper = new Deduper();
  /** Every message committed, first copies only, in commit order. */
  readonly committed: CommittedMessage[] = [];
  /** Every data message received, duplicates included. */
  deliveries = 0;
  /** Acks published. */
  acksSent = 0;
  private pending: CommittedMessage[] = [];
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly client: mqtt.MqttClient;
  private subscribed!: () => void;
  /** Resolves once the first subscription is in place (records sent before it are dropped by a broker). */
  readonly ready = new Promise<void>((r) => (this.subscribed = r));

  constructor(url: string, o: HostAckConsumerOptions = {}) {
    const prefix = o.prefix;
    this.client = mqtt.connect(url, { protocolVersion: o.protocolVersion ?? 5, clientId: o.clientId ?? `central-host-${Math.random().toString(36).slice(2, 8)}`, reconnectPeriod: 100, connectTimeout: 2000 });
    this.client.on('connect', () => {
      this.client.subscribe(o.filter ?? 'spBv1.0/#', { qos: 1 }, () => this.subscribed());
      this.publish(this.deduper.acks({ all: true, ...(prefix !== undefined ? { prefix } : {}) }));
    });
    this.client.on('error', () => undefined);
    this.client.on('message', (topic, payload, packet) => {
      const key = extractDedupKey({ payload, userProperties: packet.properties?.userProperties });
      if (key === undefined) return;
      this.deliveries += 1;
      if (this.deduper.accept(key)) this.pending.push({ key, topic, payload });
    });
    this.timer = setInterval(() => {
      // The commit: durable on the consumer's side before any ack says so.
      for (const m of this.pending) this.committed.push(m);
      this.pending = [];
      if (this.client.connected) this.publish(this.deduper.acks(prefix !== undefined ? { prefix } : {}));
    }, o.commitMs ?? 50);
  }

  private publish(acks: Array<{ topic: string; payload: Buffer }>): void {
    for (const a of acks) {
      this.client.publish(a.topic, a.payload, { qos: 1, retain: true });
      this.acksSent += 1;
    }
  }

  /** Sequences committed for one epoch. */
  seqs(epoch: string): Set<number> {
    return new Set(this.committed.filter((m) => m.key.epoch === epoch).map((m) => m.key.seq));
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.client.endAsync(true);
  }
}
