// What the broker keeps across a restart: retained messages and persistent sessions. The broker
// keeps its working state in memory and writes through this interface; the SQLite store
// (src/store) implements the same interface and must pass `test/contracts/broker-persistence-suite.ts`.
// Synchronous on purpose: better-sqlite3 is synchronous, and a sync API keeps ordering trivial.
import type { Delivery, Message, Subscription } from './types.js';

export interface InflightSnapshot {
  packetId: number;
  /** `publish`: waiting for PUBACK/PUBREC; `pubrel`: PUBREL sent, waiting for PUBCOMP. */
  state: 'publish' | 'pubrel';
  delivery: Delivery;
}

export interface SessionSnapshot {
  clientId: string;
  /** Seconds; 0xFFFFFFFF never expires (MQTT 5.0 §3.1.2.11.2). */
  expiryInterval: number;
  /** Wall-clock ms when the client went away; expiry counts from here across restarts. */
  disconnectedAt: number;
  subscriptions: Subscription[];
  inflight: InflightSnapshot[];
  queue: Delivery[];
  /** QoS 2 packet ids received and PUBREC'd but not yet released [MQTT-4.3.3-9]. */
  incomingQos2: number[];
  /** The user who owns this client id (null: anonymous); absent in snapshots from before issue 18. */
  owner?: string | null;
}

export interface BrokerPersistence {
  /** Stores a retained message, replacing the topic's previous one; an empty payload deletes it [MQTT-3.3.1-10]. */
  putRetained(message: Message): void;
  listRetained(): Message[];
  saveSession(session: SessionSnapshot): void;
  loadSession(clientId: string): SessionSnapshot | undefined;
  deleteSession(clientId: string): void;
  listSessions(): SessionSnapshot[];
  close(): void;
}

// structuredClone copies Buffers as Uint8Arrays; message payloads must stay Buffers.
function cloneMessage(m: Message): Message {
  const copy: Message = { ...m, payload: Buffer.from(m.payload) };
  if (m.properties !== undefined) {
    copy.properties = { ...m.properties };
    if (m.properties.correlationData !== undefined) copy.properties.correlationData = Buffer.from(m.properties.correlationData);
    if (m.properties.userProperties !== undefined) copy.properties.userProperties = structuredClone(m.properties.userProperties);
  }
  return copy;
}

function cloneDelivery(d: Delivery): Delivery {
  const copy: Delivery = { ...d, message: cloneMessage(d.message) };
  if (d.subscriptionIds !== undefined) copy.subscriptionIds = [...d.subscriptionIds];
  return copy;
}

function cloneSession(s: SessionSnapshot): SessionSnapshot {
  return {
    clientId: s.clientId,
    expiryInterval: s.expiryInterval,
    disconnectedAt: s.disconnectedAt,
    subscriptions: s.subscriptions.map((sub) => ({ ...sub })),
    inflight: s.inflight.map((f) => ({ packetId: f.packetId, state: f.state, delivery: cloneDelivery(f.delivery) })),
    queue: s.queue.map(cloneDelivery),
    incomingQos2: [...s.incomingQos2],
  };
}

/** Keeps everything in this process: the default, and what tests use. Copies on the way in and out so callers cannot alias stored state. */
export class MemoryPersistence implements BrokerPersistence {
  private readonly retained = new Map<string, Message>();
  private readonly sessions = new Map<string, SessionSnapshot>();

  putRetained(message: Message): void {
    if (message.payload.length === 0) this.retained.delete(message.topic);
    else this.retained.set(message.topic, cloneMessage(message));
  }

  listRetained(): Message[] {
    return [...this.retained.values()].map(cloneMessage);
  }

  saveSession(session: SessionSnapshot): void {
    this.sessions.set(session.clientId, cloneSession(session));
  }

  loadSession(clientId: string): SessionSnapshot | undefined {
    const s = this.sessions.get(clientId);
    return s === undefined ? undefined : cloneSession(s);
  }

  deleteSession(clientId: string): void {
    this.sessions.delete(clientId);
  }

  listSessions(): SessionSnapshot[] {
    return [...this.sessions.values()].map(cloneSession);
  }

  close(): void {
    // Nothing to release: the maps live as long as this object.
  }
}
