// WebSocket listeners (MQTT 5.0 §6, RFC 6455) on the `ws` library (issue 18): ws enforces the
// RFC's MUSTs (masking, control frames, continuation, close codes, UTF-8, keys) that a
// hand-written framer got wrong. MQTT rides in binary messages [MQTT-6.0.0-1], a packet may
// span frames [MQTT-6.0.0-2], and the `mqtt` subprotocol is selected [MQTT-6.0.0-4].
import type { IncomingMessage } from 'node:http';
import type net from 'node:net';
import { Duplex } from 'node:stream';
import type tls from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';
import type { BrokerListenerConfig } from '../config/sections/broker.js';
import type { Logger } from '../observe/logger.js';
import type { Clock } from '../shared/clock.js';
import { bind, type AcceptedStream, type Listener } from './listener.js';
import { certIdentity, tlsOptions } from './listener-secure.js';
import { socketKey, type SocketGate } from './socket-gate.js';

// Built-ins through process.getBuiltinModule, not `import` (issue 15): an ESM import builds the
// module's ESM facade, which reads every export, lazy getters included; on Node 26 that loads
// undici through node:http's WebSocket, CloseEvent and MessageEvent getters: +16 MiB RSS for every
// gateway, WebSocket listener or not; node:tls reads rootCertificates, node:crypto its webcrypto.
const http = process.getBuiltinModule('node:http');
const https = process.getBuiltinModule('node:https');

const SUBPROTOCOLS = ['mqtt', 'mqttv3.1'];

export interface WebSocketOptions {
  gate: SocketGate;
  logger: Logger;
  clock: Clock;
  /** Largest WebSocket message: maxPacketSize (a packet may span frames, never exceed this). */
  maxPayload: number;
  connectTimeout: number;
  /** Unsent bytes beyond which a client that keeps pinging without reading is dropped. */
  maxWriteBuffer: number;
  allowAnonymous: boolean;
  /** Called when a client is dropped for not reading (counted by the broker). */
  onSlowClient: () => void;
}

/** One WebSocket connection as a byte stream of MQTT packets; its writableLength is what is unsent. */
export class WebSocketStream extends Duplex {
  constructor(private readonly ws: WebSocket) {
    super();
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        ws.close(1003, 'MQTT needs binary frames'); // [MQTT-6.0.0-1]
        this.destroy();
        return;
      }
      if (!this.push(data)) ws.pause();
    });
    ws.on('close', () => {
      this.push(null);
      this.destroy();
    });
    ws.on('error', (err) => this.destroy(err));
  }

  override _read(): void {
    this.ws.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.ws.readyState !== this.ws.OPEN) return cb();
    // The callback fires once the bytes are handed to the kernel, so writableLength counts
    // what a non-reading client holds in our memory.
    this.ws.send(chunk, { binary: true }, () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(1000);
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.ws.terminate();
    cb(err);
  }
}

function refuse(socket: net.Socket, status: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * Browsers always send Origin; other clients usually do not, and can forge it anyway, so the
 * check only keeps web pages out. With a list, only listed origins; without one, any origin on
 * a listener that needs a login, and only same-origin pages on an anonymous one.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: readonly string[] | undefined, anonymous: boolean): boolean {
  if (origin === undefined) return true;
  if (allowed !== undefined) return allowed.includes(origin);
  if (!anonymous) return true;
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}

export async function listenWebSocket(config: BrokerListenerConfig, onStream: (s: AcceptedStream) => void, options: WebSocketOptions): Promise<Listener> {
  // Headers must arrive within connectTimeout; the gate's deadline covers the rest.
  const serverOptions = { headersTimeout: options.connectTimeout, requestTimeout: options.connectTimeout, keepAliveTimeout: Math.min(5000, options.connectTimeout), connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(options.connectTimeout / 4))) };
  const server = config.protocol === 'wss' ? https.createServer({ ...tlsOptions(config), ...serverOptions, handshakeTimeout: options.connectTimeout }) : http.createServer(serverOptions);
  server.on('connection', options.gate.admit);
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayload, perMessageDeflate: false, clientTracking: false, autoPong: false, handleProtocols: (offered) => SUBPROTOCOLS.find((p) => offered.has(p)) ?? false });
  wss.on('error', (err) => options.logger.debug({ err: err.message }, 'WebSocket server error'));
  server.on('request', (_req, res) => {
    res.writeHead(426, { Upgrade: 'websocket', Connection: 'Upgrade' }).end();
  });
  server.on('upgrade', (req: IncomingMessage, socket: net.Socket, head: Buffer) => {
    socket.on('error', () => undefined);
    const path = (req.url ?? '/').split('?')[0];
    if (path !== config.path) return refuse(socket, '404 Not Found');
    if (!originAllowed(req.headers.origin, req.headers.host, config.allowedOrigins, options.allowAnonymous)) {
      options.logger.debug({ origin: req.headers.origin, remote: socket.remoteAddress }, 'WebSocket upgrade refused: origin not allowed');
      return refuse(socket, '403 Forbidden');
    }
    const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!SUBPROTOCOLS.some((p) => offered.includes(p))) return refuse(socket, '400 Bad Request'); // [MQTT-6.0.0-3]
    const key = socketKey(socket);
    const remoteAddress = socket.remoteAddress ?? 'unknown';
    const identity = config.protocol === 'wss' ? certIdentity(socket as tls.TLSSocket, config) : undefined;
    // ws answers 400 itself for a bad key, version or method.
    wss.handleUpgrade(req, socket, head, (ws) => {
      const stream = new WebSocketStream(ws);
      stream.on('error', () => undefined);
      let dropped = false;
      ws.on('ping', (data: Buffer) => {
        if (dropped) return;
        // A client that pings and never reads would make every PONG pile up here (issue 18 item 2).
        if (socket.writableLength + stream.writableLength > options.maxWriteBuffer) {
          dropped = true;
          options.onSlowClient();
          options.logger.warn({ remote: remoteAddress, listener: config.protocol }, 'broker connection closed: WebSocket client not reading its PONGs');
          ws.terminate();
          return;
        }
        ws.pong(data);
      });
      onStream({ stream, remoteAddress, certIdentity: identity, gateKey: key });
    });
  });
  server.on('clientError', (err, socket) => {
    options.logger.debug({ err: err.message }, 'bad HTTP request on a WebSocket listener');
    socket.destroy();
  });
  return bind(server, config);
}
