// Every socket on every broker listener passes this gate at TCP accept, before any TLS
// handshake, WebSocket upgrade or CONNECT (issue 18 item 4). Sockets that have not completed
// CONNECT are "pending": they have their own small cap, overall and per source address, and a
// deadline of connectTimeout from the first byte of TCP, so idle or slow sockets (TLS or HTTP
// upgrade included) can neither exhaust file descriptors nor lock logins out.
import type net from 'node:net';
import type { BrokerLimits } from '../config/sections/broker.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
import { ConnectionRateLimiter } from './limits.js';
import type { BrokerMetrics } from './metrics.js';

interface Pending {
  address: string;
  timer: TimerHandle;
}

/** Identifies one TCP connection across the wrappers (TLS, WebSocket) a listener puts on it. */
export function socketKey(s: { localPort?: number | undefined; remoteAddress?: string | undefined; remotePort?: number | undefined }): string {
  return `${s.localPort ?? 0}|${s.remoteAddress ?? ''}|${s.remotePort ?? 0}`;
}

export class SocketGate {
  private readonly pending = new Map<string, Pending>();
  private readonly perAddress = new Map<string, number>();
  private open = 0;
  private closed = false;
  private readonly rate: ConnectionRateLimiter;

  constructor(private readonly limits: BrokerLimits, private readonly clock: Clock, private readonly metrics: BrokerMetrics) {
    this.rate = new ConnectionRateLimiter(limits.connectionsPerSecondPerAddress, () => clock.monotonic());
  }

  /** `server.on('connection', ...)`: admits the raw socket or destroys it at once, counted. */
  readonly admit = (socket: net.Socket): void => {
    // Nothing from a refused or half-open socket may reach the process as an uncaught error.
    socket.on('error', () => undefined);
    const address = socket.remoteAddress ?? 'unknown';
    const reason = this.refusal(address);
    if (reason !== undefined) {
      this.metrics.rejectedConnections.inc({ reason });
      socket.destroy();
      return;
    }
    const key = socketKey(socket);
    this.open++;
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    const timer = this.clock.setTimeout(() => {
      // No CONNECT within connectTimeout of the TCP accept: TLS, upgrade and CONNECT together.
      this.metrics.rejectedConnections.inc({ reason: 'connect-timeout' });
      socket.destroy();
    }, this.limits.connectTimeout);
    this.pending.set(key, { address, timer });
    socket.once('close', () => {
      this.open--;
      this.release(key);
    });
  };

  private refusal(address: string): string | undefined {
    if (this.closed) return 'closing';
    if (this.open >= this.limits.maxConnections + this.limits.maxPendingConnections) return 'max-connections';
    if (this.pending.size >= this.limits.maxPendingConnections) return 'max-pending';
    if ((this.perAddress.get(address) ?? 0) >= this.limits.maxPendingPerAddress) return 'max-pending-per-address';
    if (!this.rate.allow(address)) return 'rate';
    return undefined;
  }

  /** CONNECT was accepted on this socket: it leaves the pending caps and deadline. */
  promote(key: string): void {
    this.release(key);
  }

  private release(key: string): void {
    const p = this.pending.get(key);
    if (p === undefined) return;
    this.pending.delete(key);
    this.clock.clearTimeout(p.timer);
    const n = (this.perAddress.get(p.address) ?? 1) - 1;
    if (n <= 0) this.perAddress.delete(p.address);
    else this.perAddress.set(p.address, n);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  close(): void {
    this.closed = true;
    for (const p of this.pending.values()) this.clock.clearTimeout(p.timer);
    this.pending.clear();
    this.perAddress.clear();
    this.rate.clear();
  }
}
