// The drain's own publish path on a session mqtt.js owns. mqtt.js keeps everything about the
// connection (CONNECT and Will, TLS, WebSocket, keepalive, subscriptions, its own few
// publishes); the drain encodes its PUBLISHes itself (publish-encoder.ts), writes each pass in
// one write to the client's stream, and matches their acks by packet id in a range mqtt.js never
// allocates (packet-ids.ts).
//
// Acks: the drain's PUBACK / PUBREC / PUBCOMP are taken out of the incoming bytes before
// mqtt.js parses them (ack-tap.ts) and handled here; for QoS 2 the PUBREL is the drain's to send
// as well. Everything else reaches mqtt.js unchanged. mqtt.js would in any case ignore an ack for
// an id it did not allocate (handlers/ack.js in mqtt 5.16: "Server sent an ack in error.
// Ignoring."). Checked in drain-wire.test.ts against a real broker, with mqtt.js' own publishes
// and subscriptions running beside the drain.
//
// Order: a write lands on the stream after everything mqtt.js wrote before it and before
// everything it writes after, whole packets each, so births written at CONNACK precede the
// backlog and an ack fence published after a flush follows the QoS 0 records it vouches for.
import type { MqttClient } from 'mqtt';
import type { QoS } from '../store/outbox.js';
import { tapAcks } from './ack-tap.js';
import { DrainIds, DRAIN_IDS } from './packet-ids.js';
import { PublishEncoder } from './publish-encoder.js';

export interface DrainWireHandlers {
  /** PUBACK (QoS 1) or PUBCOMP (QoS 2) for the record with this sequence. */
  acked(seq: number): void;
  /** MQTT 5 PUBACK, PUBREC or PUBCOMP with a reason code >= 0x80. */
  refused(seq: number, topic: string, reason: number): void;
}

export interface WireMessage {
  topic: string;
  payload: Uint8Array;
  retain: boolean;
  userProperties?: Readonly<Record<string, string>> | undefined;
}

export class DrainWire {
  private readonly ids = new DrainIds();
  private readonly encoder: PublishEncoder;
  private pubrelScheduled: ReturnType<typeof setImmediate> | undefined;
  private closed = false;
  private readonly untap: () => void;

  /**
   * Call right after mqtt.connect(), before the stream delivers its first byte (the tap frames
   * packets from there).
   * @param dedupPrefix `<node>/<epoch>/` for the MQTT 5 `fg-dedup` property. */
  constructor(
    private readonly client: MqttClient,
    protocolVersion: 4 | 5,
    dedupPrefix: string,
    private readonly handlers: DrainWireHandlers,
  ) {
    this.encoder = new PublishEncoder(protocolVersion, dedupPrefix);
    // The stream mqtt.js built for this client (net, TLS or WebSocket): it reads through it.
    this.untap = tapAcks(client.stream as unknown as Parameters<typeof tapAcks>[0], {
      owns: (id) => this.ids.owns(id),
      ack: (type, id, reason) => this.onAck(type, id, reason),
    });
  }

  /** The most QoS 1/2 records this path can have unacknowledged. */
  static readonly capacity = DRAIN_IDS;

  /** QoS 1/2 records sent and not yet acknowledged on this session. */
  get unacknowledged(): number {
    return this.ids.inUse;
  }

  /**
   * Encodes one record for the next flush. False (nothing encoded) when it cannot be an MQTT
   * packet at all: beyond the 256 MiB packet limit. Throws when every packet id is in use: the
   * caller's window must stay within `DrainWire.capacity`.
   */
  add(msg: WireMessage, seq: number, qos: QoS, dup: boolean): boolean {
    let messageId = 0;
    if (qos > 0) {
      const id = this.ids.allocate(seq, msg.topic);
      if (id === undefined) throw new RangeError('drain: no packet identifier free; the window exceeds DrainWire.capacity');
      messageId = id;
    }
    const ok = this.encoder.publish({ topic: msg.topic, payload: msg.payload, qos, retain: msg.retain, dup, messageId }, seq, msg.userProperties);
    if (!ok && qos > 0) this.ids.release(messageId);
    return ok;
  }

  /**
   * Writes everything encoded in one write. `written(true)` runs once the stream has taken it
   * (for QoS 0 records, which have no ack); `written(false)` when the stream failed or was gone.
   */
  flush(written?: (ok: boolean) => void): void {
    const out = this.encoder.take();
    if (out === undefined) return written?.(true);
    const stream = this.client.stream;
    if (this.closed || stream.destroyed || !stream.writable) return written?.(false);
    if (written === undefined) stream.write(out);
    else stream.write(out, (err) => written(err === undefined || err === null));
  }

  /** Holds writes to the stream (the drain's and mqtt.js') until `uncork`, to go out together. */
  cork(): void {
    this.client.stream.cork();
  }

  uncork(): void {
    this.client.stream.uncork();
  }

  /** Drops what was encoded and not flushed (the session is going down). */
  discard(): void {
    this.encoder.discard();
  }

  /** The session is over: stop listening; unacknowledged records are the outbox's to resend. */
  close(): void {
    this.closed = true;
    this.untap();
    this.encoder.discard();
    if (this.pubrelScheduled !== undefined) clearImmediate(this.pubrelScheduled);
    this.pubrelScheduled = undefined;
  }

  private onAck(type: 4 | 5 | 7, id: number, reason: number): void {
    if (this.closed) return;
    // MQTT 3.1.1 acks carry no reason code (0); MQTT 5 ones below 0x80 are success [MQTT-3.4.2.1].
    if (type === 5 && reason < 0x80) {
      // QoS 2, step two. A PUBREC for an id not in use gets no answer: nothing was sent on it.
      if (this.ids.seqOf(id) === 0) return;
      this.encoder.pubrel(id);
      this.schedulePubrel();
      return;
    }
    const topic = this.ids.topicOf(id);
    const seq = this.ids.release(id);
    // An ack for an id not in use (a duplicate) is ignored, as mqtt.js does for its own.
    if (seq === 0) return;
    if (reason >= 0x80) this.handlers.refused(seq, topic, reason);
    else this.handlers.acked(seq);
  }

  /** PUBRELs of one read go out together, after the packets of that read are handled. */
  private schedulePubrel(): void {
    if (this.pubrelScheduled !== undefined) return;
    this.pubrelScheduled = setImmediate(() => {
      this.pubrelScheduled = undefined;
      this.flush();
    });
  }
}
