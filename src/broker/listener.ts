// Accepting sockets for one configured listener: TCP now, TLS and WebSocket by protocol.
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { BrokerListenerConfig } from '../config/sections/broker.js';
import { FieldgateError } from '../errors.js';
import { socketKey, type SocketGate } from './socket-gate.js';

export interface AcceptedStream {
  stream: Duplex;
  remoteAddress: string;
  certIdentity?: string | undefined;
  /** The TCP connection under the stream, for the socket gate (socket-gate.ts). */
  gateKey: string;
}

export interface Listener {
  readonly config: BrokerListenerConfig;
  address(): net.AddressInfo;
  close(): Promise<void>;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.') || host === '::ffff:127.0.0.1';
}

/**
 * Socket stream buffers: Node 22+ defaults to 64 KiB each way. A publisher paused by
 * backpressure keeps up to this much read ahead in its socket's stream, so a smaller mark
 * bounds what paused publishers hold (issue 15). Writes are bounded by maxWriteBuffer instead.
 */
export const SOCKET_HIGH_WATER_MARK = 16 * 1024;

export async function listenTcp(config: BrokerListenerConfig, onStream: (s: AcceptedStream) => void, gate: SocketGate): Promise<Listener> {
  const server = net.createServer({ noDelay: true, highWaterMark: SOCKET_HIGH_WATER_MARK }, (socket) => {
    if (socket.destroyed) return; // refused by the gate
    onStream({ stream: socket, remoteAddress: socket.remoteAddress ?? 'unknown', gateKey: socketKey(socket) });
  });
  server.on('connection', gate.admit);
  return bind(server, config);
}

export function bind(server: net.Server, config: BrokerListenerConfig): Promise<Listener> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      reject(new FieldgateError('FG_ERR_LISTEN', `broker listener ${config.protocol}://${config.host}:${config.port}: ${err.message}`, { cause: err }));
    };
    server.once('error', onError);
    server.listen(config.port, config.host, () => {
      server.off('error', onError);
      resolve({
        config,
        address: () => server.address() as net.AddressInfo,
        close: () =>
          new Promise<void>((res) => {
            // Node >= 19 also closes idle HTTP keep-alive sockets here (websocket.test.ts checks it).
            server.close(() => res());
          }),
      });
    });
  });
}
