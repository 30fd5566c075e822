// TLS listeners (mqtts) and, through websocket.ts, WebSocket ones (ws, wss).
import { readFileSync } from 'node:fs';
import type { TLSSocket, TlsOptions } from 'node:tls';
import type { BrokerListenerConfig } from '../config/sections/broker.js';
import { FieldgateError } from '../errors.js';
import { bind, type AcceptedStream, type Listener } from './listener.js';
import { socketKey } from './socket-gate.js';
import type { WebSocketOptions } from './websocket.js';

// Not `import`: node:tls's ESM facade reads tls.rootCertificates (issue 15, see websocket.ts).
const tls = process.getBuiltinModule('node:tls');

export function tlsOptions(config: BrokerListenerConfig): TlsOptions {
  const t = config.tls;
  if (t === undefined) throw new FieldgateError('FG_ERR_BROKER_AUTH', `${config.protocol} listener on port ${config.port} has no tls section`);
  const read = (what: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new FieldgateError('FG_ERR_BROKER_AUTH', `cannot read TLS ${what} ${path}: ${(err as Error).message}`, { cause: err });
    }
  };
  return {
    cert: read('certificate', t.cert),
    key: read('key', t.key),
    ...(t.ca !== undefined ? { ca: read('CA', t.ca) } : {}),
    // Ask for a certificate whenever a CA is configured; refuse only when it is required.
    requestCert: t.ca !== undefined,
    rejectUnauthorized: t.requireClientCert,
  };
}

/** Subject CN of a certificate the TLS layer verified against the configured CA. */
export function certIdentity(socket: TLSSocket, config: BrokerListenerConfig): string | undefined {
  if (config.tls?.identityFromCert !== true || !socket.authorized) return undefined;
  const cn = socket.getPeerCertificate().subject?.CN;
  return typeof cn === 'string' && cn.length > 0 ? cn : undefined;
}

export interface SecureListenOptions extends Omit<WebSocketOptions, 'allowAnonymous'> {
  allowAnonymous: boolean;
}

export async function listenSecure(config: BrokerListenerConfig, onStream: (s: AcceptedStream) => void, options: SecureListenOptions): Promise<Listener> {
  if (config.protocol === 'ws' || config.protocol === 'wss') {
    const { listenWebSocket } = await import('./websocket.js');
    return listenWebSocket(config, onStream, options);
  }
  // The handshake must finish within connectTimeout; the gate's deadline covers CONNECT too.
  const server = tls.createServer({ ...tlsOptions(config), handshakeTimeout: options.connectTimeout }, (socket) => {
    if (socket.destroyed) return;
    onStream({ stream: socket, remoteAddress: socket.remoteAddress ?? 'unknown', certIdentity: certIdentity(socket, config), gateKey: socketKey(socket) });
  });
  server.on('connection', options.gate.admit);
  // A failed handshake concerns that socket only.
  server.on('tlsClientError', (err) => options.logger.debug({ err: err.message }, 'TLS handshake failed'));
  return bind(server, config);
}
