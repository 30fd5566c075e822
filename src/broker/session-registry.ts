// Session lifecycle: which sessions exist, when a disconnected one expires, and saving the
// persistent ones (MQTT 5.0 §4.1). Routing lives in core.ts; this module never delivers.
import type { Logger } from '../observe/logger.js';
import type { BrokerLimits } from '../config/sections/broker.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
import type { BrokerPersistence } from './persistence.js';
import { Session } from './session.js';
import type { TopicTree } from './topic-tree.js';

const NEVER_EXPIRES = 0xffff_ffff;
// setTimeout holds at most 2^31-1 ms (~24.8 days); longer waits are re-armed in steps.
const MAX_TIMER_MS = 2 ** 31 - 1;
/**
 * Persistent sessions changed since their last save are written at most this long after the
 * change: a crash loses at most this much of their subscriptions and queued messages, and a
 * busy session costs one write per interval, not one per message.
 */
export const SESSION_SAVE_INTERVAL_MS = 1000;

export interface SessionRegistryDeps {
  limits: BrokerLimits;
  clock: Clock;
  logger: Logger;
  persistence: BrokerPersistence;
  /** Every session's subscriptions are in this tree while the session exists. */
  tree: TopicTree;
  /** A session expired: its delayed will is due now [MQTT-3.1.3-9]. */
  onExpired: (clientId: string) => void;
}

export class SessionRegistry {
  readonly sessions = new Map<string, Session>();
  private readonly expiryTimers = new Map<string, TimerHandle>();
  private readonly dirty = new Set<Session>();
  private saveTimer: TimerHandle | undefined;

  constructor(private readonly deps: SessionRegistryDeps) {}

  private sessionLimits() {
    return { maxQueued: this.deps.limits.maxQueued, maxQueuedBytes: this.deps.limits.maxQueuedBytes };
  }

  /** Sessions saved before a restart come back with their subscriptions and queues. */
  restore(): void {
    const now = this.deps.clock.now();
    for (const snap of this.deps.persistence.listSessions()) {
      const session = Session.fromSnapshot(snap, this.sessionLimits(), () => this.deps.clock.now());
      const left = this.expiryLeftMs(session, now);
      if (left <= 0) {
        this.deps.persistence.deleteSession(snap.clientId);
        continue;
      }
      this.sessions.set(session.clientId, session);
      for (const sub of session.subscriptions.values()) this.deps.tree.add(session.clientId, sub);
      this.scheduleExpiry(session, left);
    }
  }

  private expiryLeftMs(session: Session, now: number): number {
    if (session.expiryInterval === NEVER_EXPIRES) return Number.POSITIVE_INFINITY;
    return session.disconnectedAt + session.expiryInterval * 1000 - now;
  }

  /**
   * CONNECT after any takeover: resumes the client's session or starts one; Clean Start
   * discards the old one [MQTT-3.1.2-4]. `present` is the CONNACK flag [MQTT-3.2.2-2, MQTT-3.2.2-3].
   */
  open(clientId: string, clean: boolean, expiryInterval: number, owner: string | null): { session: Session; present: boolean } {
    this.cancelExpiry(clientId);
    let session = this.sessions.get(clientId);
    if (session !== undefined && clean) {
      this.discard(session);
      session = undefined;
    }
    const present = session !== undefined;
    if (session === undefined) {
      session = new Session(clientId, this.sessionLimits(), () => this.deps.clock.now());
      this.sessions.set(clientId, session);
    }
    session.expiryInterval = expiryInterval;
    session.owner = owner;
    this.markDirty(session);
    return { session, present };
  }

  /** The session's connection went away: it ends now, or is saved and expires later. */
  disconnected(session: Session): void {
    if (session.expiryInterval === 0) {
      this.discard(session); // the session ends with the connection [MQTT-3.1.2-23]
      return;
    }
    session.disconnectedAt = this.deps.clock.now();
    this.deps.persistence.saveSession(session.snapshot());
    this.scheduleExpiry(session, this.expiryLeftMs(session, session.disconnectedAt));
  }

  private scheduleExpiry(session: Session, leftMs: number): void {
    this.cancelExpiry(session.clientId);
    if (!Number.isFinite(leftMs)) return;
    const timer = this.deps.clock.setTimeout(() => {
      this.expiryTimers.delete(session.clientId);
      if (session.link !== undefined || this.sessions.get(session.clientId) !== session) return;
      const left = this.expiryLeftMs(session, this.deps.clock.now());
      if (left > 0) return this.scheduleExpiry(session, left);
      this.deps.onExpired(session.clientId);
      this.deps.logger.debug({ clientId: session.clientId }, 'session expired');
      this.discard(session);
    }, Math.max(0, Math.min(leftMs, MAX_TIMER_MS)));
    this.expiryTimers.set(session.clientId, timer);
  }

  private cancelExpiry(clientId: string): void {
    const t = this.expiryTimers.get(clientId);
    if (t === undefined) return;
    this.deps.clock.clearTimeout(t);
    this.expiryTimers.delete(clientId);
  }

  /** The session changed (subscriptions, queue): saved within SESSION_SAVE_INTERVAL_MS. */
  markDirty(session: Session): void {
    if (session.expiryInterval === 0) return;
    this.dirty.add(session);
    if (this.saveTimer === undefined) this.saveTimer = this.deps.clock.setTimeout(() => this.saveDirty(), SESSION_SAVE_INTERVAL_MS);
  }

  private saveDirty(): void {
    this.saveTimer = undefined;
    for (const session of this.dirty) {
      if (this.sessions.get(session.clientId) === session && session.expiryInterval > 0) this.deps.persistence.saveSession(session.snapshot());
    }
    this.dirty.clear();
  }

  private discard(session: Session): void {
    this.dirty.delete(session);
    for (const sub of session.subscriptions.values()) this.deps.tree.remove(session.clientId, sub);
    session.subscriptions.clear();
    if (this.sessions.get(session.clientId) === session) this.sessions.delete(session.clientId);
    this.cancelExpiry(session.clientId);
    this.deps.persistence.deleteSession(session.clientId);
  }

  queuedCount(): number {
    let n = 0;
    for (const s of this.sessions.values()) n += s.queue.length;
    return n;
  }

  /** Saves every persistent session and clears every timer. */
  shutdown(): void {
    const now = this.deps.clock.now();
    for (const session of this.sessions.values()) {
      if (session.expiryInterval === 0) continue;
      if (session.link !== undefined) session.disconnectedAt = now;
      this.deps.persistence.saveSession(session.snapshot());
    }
    for (const t of this.expiryTimers.values()) this.deps.clock.clearTimeout(t);
    this.expiryTimers.clear();
    if (this.saveTimer !== undefined) this.deps.clock.clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    this.dirty.clear();
  }
}
