// The broker's shared state: the subscription tree, retained messages, wills, and routing a
// message to every matching subscriber. Session lifecycle (expiry, saving) lives in
// session-registry.ts; listeners and sockets in index.ts.
import type { Logger } from '../observe/logger.js';
import type { BrokerLimits } from '../config/sections/broker.js';
import type { Clock } from '../shared/clock.js';
import type { Acl } from './acl.js';
import type { Authenticator } from '../shared/auth.js';
import type { Connection } from './connection.js';
import type { BrokerMetrics } from './metrics.js';
import type { BrokerPersistence } from './persistence.js';
import { LoginGuard } from '../shared/login-guard.js';
import { copyPayload } from './codec.js';
import { RetainedStore } from './retained.js';
import type { Session } from './session.js';
import { SessionRegistry } from './session-registry.js';
import { TopicTree, type Match, type SharedMatch } from './topic-tree.js';
import { Wills } from './wills.js';
import type { Delivery, Message, QoS, Subscription } from './types.js';

/** In-process subscriber: gets every matching message synchronously, no socket involved. */
export type LocalHandler = (message: Message) => void;

export const LOCAL_PREFIX = '\u0000local:'; // U+0000 cannot appear in an MQTT client id [MQTT-1.5.4-2]
export { SESSION_SAVE_INTERVAL_MS } from './session-registry.js';

export interface CoreDeps {
  limits: BrokerLimits;
  clock: Clock;
  logger: Logger;
  metrics: BrokerMetrics;
  persistence: BrokerPersistence;
  auth: Authenticator;
  acl: Acl;
}

export class BrokerCore {
  readonly limits: BrokerLimits;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: BrokerMetrics;
  readonly auth: Authenticator;
  readonly acl: Acl;
  readonly persistence: BrokerPersistence;
  readonly loginGuard: LoginGuard;
  readonly tree = new TopicTree();
  private readonly registry: SessionRegistry;
  readonly sessions: ReadonlyMap<string, Session>;
  readonly retained: RetainedStore;
  readonly connections = new Set<Connection>();
  private readonly locals = new Map<string, LocalHandler>();
  private readonly wills: Wills;
  // Keyed by the tree's member map, so a group's cursor goes when the group does.
  private readonly shareCursor = new WeakMap<Map<string, Subscription>, number>();
  private liveCount = 0;
  /** Sessions that became congested during the current route(); read by the PUBLISH handler. */
  readonly congested: Session[] = [];
  private localSeq = 0;

  constructor(deps: CoreDeps) {
    this.limits = deps.limits;
    this.clock = deps.clock;
    this.logger = deps.logger;
    this.metrics = deps.metrics;
    this.auth = deps.auth;
    this.acl = deps.acl;
    this.persistence = deps.persistence;
    this.loginGuard = new LoginGuard(deps.clock, deps.logger, 'broker');
    this.retained = new RetainedStore(deps.persistence, () => this.clock.now());
    this.wills = new Wills(this.clock, this.acl, this.metrics, this.logger, (m) => this.route(m));
    this.registry = new SessionRegistry({
      limits: deps.limits, clock: deps.clock, logger: deps.logger, persistence: deps.persistence, tree: this.tree,
      onExpired: (clientId) => this.wills.publishNow(clientId),
    });
    this.sessions = this.registry.sessions;
    this.registry.restore();
  }

  connectedCount(): number {
    return this.liveCount;
  }

  /**
   * A client id belongs to the user whose session holds it: another user's CONNECT is refused,
   * so it can neither kick the owner off nor inherit subscriptions its own ACL denies (issue
   * 18). The same user may take over [MQTT-3.1.4-3]. Sessions saved before owners existed are
   * claimed by the next user to connect.
   */
  mayUseClientId(clientId: string, username: string | undefined): boolean {
    const owner = this.sessions.get(clientId)?.owner;
    return owner === undefined || owner === (username ?? null);
  }

  hasLiveConnection(clientId: string): boolean {
    return this.sessions.get(clientId)?.link !== undefined;
  }

  /** MQTT 5 Request Problem Information defaults to 1; we always send reason strings then. */
  problemInfo(_conn: Connection): boolean {
    return true;
  }

  /** CONNECT: takes over, resumes or starts the client's session (MQTT 5.0 §3.1.2.4, §4.1). */
  attachSession(conn: Connection, clientId: string, clean: boolean, expiryInterval: number): { session: Session; present: boolean } {
    this.connections.add(conn);
    const existing = this.sessions.get(clientId);
    const previous = existing?.link as Connection | undefined;
    if (previous !== undefined && previous !== conn) {
      // A second connection with the same id takes over the first [MQTT-3.1.4-3].
      previous.session = undefined;
      existing!.link = undefined;
      this.liveCount--;
      previous.disconnect(0x8e, 'session taken over');
      this.onTakenOver(previous);
    }
    this.wills.cancel(clientId); // [MQTT-3.1.3-9]
    const { session, present } = this.registry.open(clientId, clean, expiryInterval, conn.username ?? null);
    conn.session = session;
    this.liveCount++;
    this.metrics.clientsConnected.set(undefined, this.liveCount);
    return { session, present };
  }

  private onTakenOver(previous: Connection): void {
    // The old connection did not send DISCONNECT: its will is due now (MQTT 5.0 §3.1.4, step 3).
    const will = previous.will;
    previous.will = undefined;
    if (will !== undefined) this.wills.publish(will.message, previous.username, previous.clientId);
  }

  onConnectionClosed(conn: Connection, wasConnected: boolean, graceful: boolean, reason: string): void {
    this.connections.delete(conn);
    const session = conn.session;
    if (session === undefined || session.link !== conn) return;
    session.link = undefined;
    conn.session = undefined;
    this.liveCount--;
    this.metrics.clientsConnected.set(undefined, this.liveCount);
    if (wasConnected) this.metrics.disconnects.inc();
    const will = conn.will;
    conn.will = undefined;
    this.registry.disconnected(session);
    if (will !== undefined) {
      // Delayed by min(Will Delay, Session Expiry) (MQTT 5.0 §3.1.3.2.2), published at once otherwise.
      const delay = Math.min(will.delay, session.expiryInterval);
      if (delay <= 0) this.wills.publish(will.message, conn.username, conn.clientId);
      else this.wills.schedule(conn.clientId, conn.username, will.message, delay * 1000);
    }
  }

  /** Returns whether a subscription with this filter already existed (Retain Handling 1). */
  addSubscription(session: Session, sub: Subscription): boolean {
    const old = session.subscriptions.get(sub.key);
    if (old !== undefined) this.tree.remove(session.clientId, old);
    session.subscriptions.set(sub.key, sub);
    this.tree.add(session.clientId, sub);
    this.registry.markDirty(session);
    return old !== undefined;
  }

  removeSubscription(session: Session, key: string): boolean {
    const old = session.subscriptions.get(key);
    if (old === undefined) return false;
    session.subscriptions.delete(key);
    this.tree.remove(session.clientId, old);
    this.registry.markDirty(session);
    return true;
  }

  /** Retained messages for a new subscription, with RETAIN set [MQTT-3.3.1-9]. */
  sendRetained(session: Session, sub: Subscription): void {
    for (const message of this.retained.match(sub.filter)) {
      session.offer({ message, qos: Math.min(message.qos, sub.qos) as QoS, retain: true, ...(sub.subscriptionId !== undefined ? { subscriptionIds: [sub.subscriptionId] } : {}) });
    }
  }

  /**
   * Delivers one message to every matching subscription; returns how many sessions or local
   * handlers it reached. A client with overlapping subscriptions gets one copy at the highest
   * granted QoS, carrying every Subscription Identifier [MQTT-3.3.4-2, MQTT-3.3.4-3].
   */
  route(message: Message): number {
    if (message.expiresAt !== undefined && message.expiresAt <= this.clock.now()) return 0;
    if (message.retain) {
      this.retained.put(message); // stored, replaced, or cleared by an empty payload [MQTT-3.3.1-5..7]
      this.metrics.retained.set(undefined, this.retained.size);
    }
    const { matches, shared } = this.tree.matchCached(message.topic);
    let reached = 0;
    if (matches.length === 1) {
      const m = matches[0] as Match;
      const d = this.deliveryFor(message, m.clientId, m.sub);
      if (d !== undefined) reached += this.deliver(m.clientId, d);
    } else if (matches.length > 1) {
      const perClient = new Map<string, Delivery>();
      for (const m of matches) {
        const d = this.deliveryFor(message, m.clientId, m.sub);
        if (d === undefined) continue;
        const prev = perClient.get(m.clientId);
        if (prev === undefined) {
          perClient.set(m.clientId, d);
          continue;
        }
        if (d.qos > prev.qos) prev.qos = d.qos;
        prev.retain ||= d.retain;
        if (d.subscriptionIds !== undefined) prev.subscriptionIds = [...(prev.subscriptionIds ?? []), ...d.subscriptionIds];
      }
      for (const [clientId, d] of perClient) reached += this.deliver(clientId, d);
    }
    for (const group of shared) reached += this.deliverShared(message, group);
    return reached;
  }

  private deliveryFor(message: Message, clientId: string, sub: Subscription): Delivery | undefined {
    if (sub.noLocal && message.origin === clientId) return undefined; // [MQTT-3.8.3-3]
    // Granted QoS caps the delivery QoS [MQTT-3.8.4-8]; RETAIN is kept only with Retain As Published [MQTT-3.3.1-12, MQTT-3.3.1-13].
    const d: Delivery = { message, qos: (message.qos < sub.qos ? message.qos : sub.qos) as QoS, retain: sub.retainAsPublished && message.retain };
    if (sub.subscriptionId !== undefined) d.subscriptionIds = [sub.subscriptionId];
    return d;
  }

  /** One member of the share group gets it: round robin, preferring connected members (MQTT 5.0 §4.8.2). */
  private deliverShared(message: Message, group: SharedMatch): number {
    const members = [...group.members];
    if (members.length === 0) return 0;
    const key = group.members;
    const start = (this.shareCursor.get(key) ?? 0) % members.length;
    let chosen: [string, Subscription] | undefined;
    for (let i = 0; i < members.length; i++) {
      const m = members[(start + i) % members.length] as [string, Subscription];
      if (m[0].startsWith(LOCAL_PREFIX) || this.sessions.get(m[0])?.link !== undefined) {
        chosen = m;
        this.shareCursor.set(key, start + i + 1);
        break;
      }
    }
    if (chosen === undefined) {
      chosen = members[start] as [string, Subscription];
      this.shareCursor.set(key, start + 1);
    }
    const d = this.deliveryFor(message, chosen[0], chosen[1]);
    return d === undefined ? 0 : this.deliver(chosen[0], d);
  }

  private deliver(clientId: string, d: Delivery): number {
    if (clientId.startsWith(LOCAL_PREFIX)) {
      const handler = this.locals.get(clientId);
      if (handler === undefined) return 0;
      // A QoS 0 message that is not retained may carry a view of the socket chunk it came in
      // (codec.ts); an in-process subscriber may keep it, so it gets its own copy.
      const m = d.message;
      try {
        handler(m.qos === 0 && !m.retain ? { ...m, payload: copyPayload(m.payload) } : m);
      } catch (err) {
        this.logger.error({ topic: d.message.topic, err }, 'in-process subscriber threw');
      }
      return 1;
    }
    const session = this.sessions.get(clientId);
    if (session === undefined) return 0;
    const before = session.dropped;
    const result = session.offer(d);
    if (result === 'queued' && session.link === undefined) this.registry.markDirty(session);
    if (session.congested && d.message.origin !== clientId) this.congested.push(session);
    // QoS 0 refused by a live connection was counted there (slow subscriber, packet size).
    if (result === 'dropped' && d.qos === 0 && session.link === undefined) this.metrics.dropped.inc({ reason: 'qos0-offline' });
    const lost = session.dropped - before;
    if (lost > 0) this.metrics.dropped.inc({ reason: 'queue-full' }, lost);
    return 1;
  }

  /** In-process subscription; returns the function that removes it. */
  subscribeLocal(filter: string, qos: QoS, handler: LocalHandler): () => void {
    const clientId = `${LOCAL_PREFIX}${++this.localSeq}`;
    this.locals.set(clientId, handler);
    const sub: Subscription = { key: filter, filter, qos, noLocal: false, retainAsPublished: true, retainHandling: 0 };
    this.tree.add(clientId, sub);
    for (const m of this.retained.match(filter)) handler(m);
    return () => {
      if (this.locals.delete(clientId)) this.tree.remove(clientId, sub);
    };
  }

  queuedCount(): number {
    return this.registry.queuedCount();
  }

  /** Saves every persistent session and clears every timer; connections are closed by the caller. */
  shutdown(): void {
    this.registry.shutdown();
    this.wills.clear();
    this.locals.clear();
  }
}
