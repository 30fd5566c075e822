// One client's session state (MQTT 5.0 §4.1): subscriptions, QoS 1/2 messages in flight each
// way, and the queue of messages waiting for the in-flight window or for the client to return.
// It outlives connections when the Session Expiry Interval (or Clean Session 0) says so.
import type { InflightSnapshot, SessionSnapshot } from './persistence.js';
import type { Delivery, Subscription } from './types.js';
import { payloadBytes } from './types.js';
import { Fifo } from './fifo.js';
import { Watermarks } from './backpressure.js';

export interface SessionLimits {
  maxQueued: number;
  maxQueuedBytes: number;
}

/** What a session needs from the connection currently attached to it. */
export interface SessionLink {
  /** Sends a PUBLISH; false when it was not sent (too large for the client, or buffer full at QoS 0). */
  sendPublish(delivery: Delivery, packetId: number | undefined, dup: boolean): boolean;
  sendPubrel(packetId: number): void;
  /** How many QoS 1/2 PUBLISHes may be unacknowledged at once (client's Receive Maximum, capped). */
  readonly sendWindow: number;
}

export type OfferResult = 'sent' | 'queued' | 'dropped';

export class Session {
  readonly subscriptions = new Map<string, Subscription>();
  /** Packet id -> outgoing QoS 1/2 message; Map keeps send order for redelivery [MQTT-4.6.0-1]. */
  readonly inflight = new Map<number, InflightSnapshot>();
  readonly queue = new Fifo<Delivery>();
  readonly incomingQos2 = new Set<number>();
  queuedBytes = 0;
  dropped = 0;
  expiryInterval = 0;
  disconnectedAt = 0;
  /** Who may use this client id: the username that created the session (null: anonymous; issue 18). */
  owner: string | null | undefined;
  private linkValue: SessionLink | undefined;
  private nextPacketId = 1;
  readonly watermarks: Watermarks;

  constructor(readonly clientId: string, private readonly limits: SessionLimits, private readonly now: () => number) {
    this.watermarks = Watermarks.forQueue(limits.maxQueued);
  }

  get link(): SessionLink | undefined {
    return this.linkValue;
  }

  /** Attaching or detaching a connection; publishers waiting on this session are released on detach. */
  set link(link: SessionLink | undefined) {
    this.linkValue = link;
    if (link === undefined) this.watermarks.release();
  }

  /** A connected subscriber whose queue passed its high-water mark slows its publishers. */
  get congested(): boolean {
    return this.linkValue !== undefined && this.watermarks.isCongested(this.queue.length);
  }

  static fromSnapshot(s: SessionSnapshot, limits: SessionLimits, now: () => number): Session {
    const session = new Session(s.clientId, limits, now);
    session.expiryInterval = s.expiryInterval;
    session.disconnectedAt = s.disconnectedAt;
    session.owner = s.owner;
    for (const sub of s.subscriptions) session.subscriptions.set(sub.key, sub);
    for (const f of s.inflight) session.inflight.set(f.packetId, f);
    for (const d of s.queue) {
      session.queue.push(d);
      session.queuedBytes += payloadBytes(d);
    }
    for (const id of s.incomingQos2) session.incomingQos2.add(id);
    return session;
  }

  snapshot(): SessionSnapshot {
    return {
      clientId: this.clientId,
      ...(this.owner !== undefined ? { owner: this.owner } : {}),
      expiryInterval: this.expiryInterval,
      disconnectedAt: this.disconnectedAt,
      subscriptions: [...this.subscriptions.values()],
      inflight: [...this.inflight.values()],
      queue: this.queue.toArray(),
      incomingQos2: [...this.incomingQos2],
    };
  }

  get connected(): boolean {
    return this.link !== undefined;
  }

  /** Hands a message to the session: sent now, queued, or dropped (counted by the caller). */
  offer(delivery: Delivery): OfferResult {
    const link = this.link;
    if (delivery.qos === 0) {
      // QoS 0 is not kept for an absent client (MQTT 5.0 §4.1: the Server MAY store them).
      if (link === undefined) return 'dropped';
      return link.sendPublish(delivery, undefined, false) ? 'sent' : 'dropped';
    }
    if (link !== undefined && this.queue.length === 0 && this.inflight.size < link.sendWindow) {
      this.sendNew(link, delivery);
      return 'sent';
    }
    return this.enqueue(delivery);
  }

  private enqueue(delivery: Delivery): OfferResult {
    if (this.limits.maxQueued === 0) {
      this.dropped++;
      return 'dropped';
    }
    this.queue.push(delivery);
    this.queuedBytes += payloadBytes(delivery);
    let result: OfferResult = 'queued';
    // Bounded per client, oldest first (issue 3): a dead subscriber cannot eat the gateway's RAM.
    while (this.queue.length > this.limits.maxQueued || (this.queuedBytes > this.limits.maxQueuedBytes && this.queue.length > 0)) {
      const old = this.queue.shift() as Delivery;
      this.queuedBytes -= payloadBytes(old);
      this.dropped++;
      if (old === delivery) result = 'dropped';
    }
    return result;
  }

  private sendNew(link: SessionLink, delivery: Delivery): void {
    const packetId = this.allocatePacketId();
    // Recorded before sending so an ack that arrives in the same tick finds it.
    this.inflight.set(packetId, { packetId, state: 'publish', delivery });
    if (!link.sendPublish(delivery, packetId, false)) {
      // Too large for this client: behave as if delivered [MQTT-3.1.2-25].
      this.inflight.delete(packetId);
    }
  }

  /** PUBACK (QoS 1) or PUBCOMP (QoS 2) ends a flow; returns false for an unknown packet id. */
  complete(packetId: number): boolean {
    if (!this.inflight.delete(packetId)) return false;
    this.drain();
    return true;
  }

  /** PUBREC: the client owns the message now; from here only PUBREL is resent [MQTT-4.3.3-4]. */
  received(packetId: number): boolean {
    const f = this.inflight.get(packetId);
    if (f === undefined || f.delivery.qos !== 2) return false;
    f.state = 'pubrel';
    return true;
  }

  /** Moves queued messages into the window while it has room. */
  drain(): void {
    const link = this.link;
    if (link === undefined) return;
    const now = this.now();
    while (this.queue.length > 0 && this.inflight.size < link.sendWindow && this.link === link) {
      const d = this.queue.shift() as Delivery;
      this.queuedBytes -= payloadBytes(d);
      if (d.message.expiresAt !== undefined && d.message.expiresAt <= now) continue; // [MQTT-3.3.2-5]
      this.sendNew(link, d);
    }
    this.watermarks.update(this.queue.length);
  }

  /**
   * After a reconnect with a present session: resend unacknowledged PUBLISHes with DUP set and
   * the same packet ids, and PUBRELs, in their original order [MQTT-4.4.0-1], then the queue.
   */
  resume(link: SessionLink): void {
    this.link = link;
    for (const f of [...this.inflight.values()]) {
      if (this.link !== link) return;
      if (f.state === 'pubrel') link.sendPubrel(f.packetId);
      else if (!link.sendPublish(f.delivery, f.packetId, true)) this.inflight.delete(f.packetId);
    }
    this.drain();
  }

  private allocatePacketId(): number {
    // Bounded: at most 65535 ids are tried, and the window is far smaller than that.
    for (let n = 0; n < 65_535; n++) {
      const id = this.nextPacketId;
      this.nextPacketId = id === 65_535 ? 1 : id + 1; // ids are non-zero [MQTT-2.2.1-3]
      if (!this.inflight.has(id)) return id;
    }
    throw new Error(`session ${this.clientId}: no free packet identifier`);
  }
}
