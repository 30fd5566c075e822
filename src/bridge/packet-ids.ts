// Packet identifiers split in two ranges on one session. mqtt.js keeps 1..SESSION_ID_MAX for
// what it still publishes and subscribes itself (births, the ack fence, NDEATH, subscriptions);
// the drain writes its PUBLISHes straight to the socket with ids above that and matches their
// acks itself (drain-wire.ts). An id is unique among a client's unacknowledged packets
// [MQTT-2.3.1-2], so the ranges must never overlap.
import type { IClientOptions } from 'mqtt';

// mqtt.js does not export the interface itself.
type IMessageIdProvider = NonNullable<IClientOptions['messageIdProvider']>;

/** Highest id mqtt.js may use. Its publishes are a handful per session, one fence at a time. */
export const SESSION_ID_MAX = 1023;
/** Ids the drain owns: SESSION_ID_MAX + 1 .. 65535. Caps the drain's QoS 1/2 window. */
export const DRAIN_IDS = 65535 - SESSION_ID_MAX;

/**
 * mqtt.js' `messageIdProvider`, limited to 1..SESSION_ID_MAX. When all are in use it returns
 * null and mqtt.js queues the packet until an ack frees one.
 */
export class SessionIdProvider implements IMessageIdProvider {
  private readonly used = new Set<number>();
  private last: number | null = null;
  private next = 1;

  allocate(): number | null {
    if (this.used.size >= SESSION_ID_MAX) return null;
    // Bounded: at most SESSION_ID_MAX steps, and one is free.
    while (this.used.has(this.next)) this.next = (this.next % SESSION_ID_MAX) + 1;
    const id = this.next;
    this.used.add(id);
    this.last = id;
    this.next = (id % SESSION_ID_MAX) + 1;
    return id;
  }

  getLastAllocated(): number | null {
    return this.last;
  }

  register(id: number): boolean {
    if (id < 1 || id > SESSION_ID_MAX || this.used.has(id)) return false;
    this.used.add(id);
    return true;
  }

  deallocate(id: number): void {
    this.used.delete(id);
  }

  clear(): void {
    this.used.clear();
  }
}

/** The drain's ids: each in use maps to the outbox sequence it carries. */
export class DrainIds {
  // Index id - SESSION_ID_MAX - 1; 0 = free (sequences start at 1).
  private readonly seqs = new Float64Array(DRAIN_IDS);
  private readonly topics = new Array<string | undefined>(DRAIN_IDS);
  private cursor = 0;
  private count = 0;

  get inUse(): number {
    return this.count;
  }

  /** An id for `seq`, or undefined when every id is in use. */
  allocate(seq: number, topic: string): number | undefined {
    if (this.count >= DRAIN_IDS) return undefined;
    // Acks come back in order, so the slot after the last one is almost always free.
    while (this.seqs[this.cursor] !== 0) this.cursor = (this.cursor + 1) % DRAIN_IDS;
    const slot = this.cursor;
    this.seqs[slot] = seq;
    this.topics[slot] = topic;
    this.cursor = (slot + 1) % DRAIN_IDS;
    this.count++;
    return slot + SESSION_ID_MAX + 1;
  }

  /** True for an id in the drain's range (whether in use or not). */
  owns(id: number): boolean {
    return id > SESSION_ID_MAX && id <= 65535;
  }

  /** The sequence an id in use carries; 0 when free. */
  seqOf(id: number): number {
    return this.seqs[id - SESSION_ID_MAX - 1] ?? 0;
  }

  topicOf(id: number): string {
    return this.topics[id - SESSION_ID_MAX - 1] ?? '';
  }

  /** Frees an id; returns the sequence it carried (0 when it was not in use). */
  release(id: number): number {
    const slot = id - SESSION_ID_MAX - 1;
    const seq = this.seqs[slot] ?? 0;
    if (seq !== 0) {
      this.seqs[slot] = 0;
      this.topics[slot] = undefined;
      this.count--;
    }
    return seq;
  }
}
