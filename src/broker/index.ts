// The local MQTT broker (issue 3): listeners from config, one Connection per socket, and an
// in-process API so the gateway's own parts publish and subscribe without a socket.
import type { BrokerConfig } from '../config/sections/broker.js';
import { FieldgateError } from '../errors.js';
import { silentLogger, type Logger } from '../observe/logger.js';
import { MetricsRegistry } from '../observe/metrics.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { Acl } from './acl.js';
import { Authenticator, readPasswordFile } from '../shared/auth.js';
import { Connection } from './connection.js';
import { BrokerCore, type LocalHandler } from './core.js';
import { SocketGate } from './socket-gate.js';
import { isLoopback, listenTcp, type AcceptedStream, type Listener } from './listener.js';
import { brokerMetrics, type BrokerMetrics } from './metrics.js';
import { MemoryPersistence, type BrokerPersistence } from './persistence.js';
import { SysTopics } from './sys-topics.js';
import { isValidTopicFilter, isValidTopicName } from './topics.js';
import type { Message, MessageProperties, QoS } from './types.js';

export type { Message, MessageProperties, QoS } from './types.js';
export { hashPassword, verifyPassword } from '../shared/auth.js';
export { MemoryPersistence, type BrokerPersistence, type SessionSnapshot } from './persistence.js';

export interface BrokerDeps {
  persistence?: BrokerPersistence;
  logger?: Logger;
  metrics?: MetricsRegistry;
  clock?: Clock;
}

export interface PublishOptions {
  qos?: QoS;
  retain?: boolean;
  properties?: MessageProperties & { messageExpiryInterval?: number };
}

export class Broker {
  readonly metrics: BrokerMetrics;
  private readonly core: BrokerCore;
  private readonly logger: Logger;
  private readonly listeners: Listener[] = [];
  private readonly sockets = new Set<Connection>();
  private readonly gate: SocketGate;
  private readonly sys: SysTopics | undefined;
  private closed = false;

  constructor(private readonly config: BrokerConfig, deps: BrokerDeps = {}) {
    this.logger = deps.logger ?? silentLogger();
    const registry = deps.metrics ?? new MetricsRegistry();
    this.metrics = brokerMetrics(registry);
    const clock = deps.clock ?? systemClock;
    const users = [...config.users, ...(config.passwordFile !== undefined ? readPasswordFile(config.passwordFile) : [])];
    this.core = new BrokerCore({
      limits: config.limits,
      clock,
      logger: this.logger,
      metrics: this.metrics,
      persistence: deps.persistence ?? new MemoryPersistence(),
      auth: new Authenticator(users),
      acl: new Acl(config.acls),
    });
    this.metrics.subscriptions.collect(() => [[undefined, this.core.tree.size]]);
    this.metrics.queued.collect(() => [[undefined, this.core.queuedCount()]]);
    this.metrics.retained.set(undefined, this.core.retained.size);
    this.gate = new SocketGate(config.limits, clock, this.metrics);
    if (config.sysInterval !== false) this.sys = new SysTopics(this.core, clock, config.sysInterval);
  }

  /**
   * Reload (issue 20): users, ACLs and limits from a new config apply to the next CONNECT,
   * SUBSCRIBE and PUBLISH; connected clients and their sessions are untouched. Listeners and
   * TLS need a restart. Throws (changing nothing) when the password file cannot be read.
   */
  applyAccess(config: BrokerConfig): void {
    const users = [...config.users, ...(config.passwordFile !== undefined ? readPasswordFile(config.passwordFile) : [])];
    this.core.auth.replace(users);
    this.core.acl.replace(config.acls);
    Object.assign(this.core.limits, config.limits);
  }

  /** Binds every configured listener; rejects with FG_ERR_LISTEN (and binds none) if one fails. */
  async listen(): Promise<void> {
    try {
      for (const l of this.config.listeners) {
        const allowAnonymous = l.allowAnonymous ?? isLoopback(l.host);
        const accept = (s: AcceptedStream) => this.accept(s, `${l.protocol}://${l.host}:${l.port}`, allowAnonymous);
        if (l.protocol === 'mqtt') this.listeners.push(await listenTcp(l, accept, this.gate));
        else {
          const { listenSecure } = await import('./listener-secure.js');
          const limits = this.config.limits;
          this.listeners.push(
            await listenSecure(l, accept, {
              gate: this.gate,
              logger: this.logger,
              clock: this.core.clock,
              maxPayload: limits.maxPacketSize,
              connectTimeout: limits.connectTimeout,
              maxWriteBuffer: limits.maxWriteBuffer,
              allowAnonymous,
              onSlowClient: () => this.metrics.slowClients.inc(),
            }),
          );
        }
      }
    } catch (err) {
      await Promise.all(this.listeners.splice(0).map((l) => l.close()));
      throw err;
    }
    this.sys?.start();
    for (const l of this.listeners) this.logger.info({ listener: l.config.protocol, address: l.address() }, 'broker listening');
  }

  /** Where each listener is bound (port 0 in config becomes the chosen port here). */
  addresses(): Array<{ protocol: string; host: string; port: number }> {
    return this.listeners.map((l) => ({ protocol: l.config.protocol, host: l.address().address, port: l.address().port }));
  }

  private accept(s: AcceptedStream, listener: string, allowAnonymous: boolean): void {
    s.stream.on('error', () => undefined); // the Connection listens too; nothing may go uncaught
    if (this.closed) {
      s.stream.destroy();
      return;
    }
    // Caps, rate and deadline were applied at TCP accept by the gate (socket-gate.ts).
    const conn = new Connection(this.core, s.stream, {
      remoteAddress: s.remoteAddress,
      listener,
      allowAnonymous,
      certIdentity: s.certIdentity,
      onConnected: () => this.gate.promote(s.gateKey),
    });
    this.sockets.add(conn);
    s.stream.once('close', () => this.sockets.delete(conn));
  }

  /** In-process PUBLISH: routed like a client's, bypassing ACLs (the gateway is trusted). */
  publish(topic: string, payload: Buffer | string, options: PublishOptions = {}): number {
    if (!isValidTopicName(topic)) throw new FieldgateError('FG_ERR_BROKER_TOPIC', `invalid topic name "${topic}"`);
    const { messageExpiryInterval, ...properties } = options.properties ?? {};
    const message: Message = {
      topic,
      payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
      qos: options.qos ?? 0,
      retain: options.retain ?? false,
    };
    if (Object.keys(properties).length > 0) message.properties = properties;
    if (messageExpiryInterval !== undefined) message.expiresAt = this.core.clock.now() + messageExpiryInterval * 1000;
    return this.core.route(message);
  }

  /** In-process subscription: `handler` runs synchronously for each matching message (retained first). */
  subscribe(filter: string, handler: LocalHandler, options: { qos?: QoS } = {}): () => void {
    if (!isValidTopicFilter(filter)) throw new FieldgateError('FG_ERR_BROKER_TOPIC', `invalid topic filter "${filter}"`);
    return this.core.subscribeLocal(filter, options.qos ?? 2, handler);
  }

  get clientCount(): number {
    return this.core.connectedCount();
  }

  /** Clients past CONNACK, for the status page; no credentials, only who and from where. */
  clients(): Array<{ clientId: string; username?: string; remoteAddress: string; listener: string; protocolVersion: number }> {
    const out: Array<{ clientId: string; username?: string; remoteAddress: string; listener: string; protocolVersion: number }> = [];
    for (const c of this.sockets) {
      if (c.state !== 'connected') continue;
      out.push({
        clientId: c.clientId,
        ...(c.username !== undefined ? { username: c.username } : {}),
        remoteAddress: c.remoteAddress,
        listener: c.info.listener,
        protocolVersion: c.protocolVersion,
      });
    }
    return out;
  }

  get retainedCount(): number {
    return this.core.retained.size;
  }

  /** Stops listening, closes every connection (MQTT 5 clients get 0x8B), saves sessions; leaves no timer or socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.sys?.stop();
    const listeners = this.listeners.splice(0).map((l) => l.close());
    for (const conn of this.sockets) {
      // Shutdown is not the client's fault, but the spec gives it no exception: the will is published.
      conn.disconnect(0x8b, 'server shutting down');
      conn.destroy();
    }
    this.sockets.clear();
    this.core.shutdown();
    this.gate.close();
    await Promise.all(listeners);
    this.core.persistence.close();
  }
}
