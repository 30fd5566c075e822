// WebSocket listeners (MQTT 5.0 §6, RFC 6455): node's http upgrade plus minimal framing, so no
// WebSocket dependency is needed. MQTT rides in binary frames [MQTT-6.0.0-1], a packet may span
// frames [MQTT-6.0.0-2], and the `mqtt` subprotocol is selected [MQTT-6.0.0-4].
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { Duplex } from 'node:stream';
import type tls from 'node:tls';
import type { BrokerListenerConfig } from '../config/sections/broker.js';
import type { Logger } from '../observe/logger.js';
import { bind, type AcceptedStream, type Listener } from './listener.js';
import { certIdentity, tlsOptions } from './listener-secure.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'; // RFC 6455 §1.3
const SUBPROTOCOLS = ['mqtt', 'mqttv3.1'];

const OP_CONTINUATION = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

/** One WebSocket connection as a byte stream of MQTT packets. */
export class WebSocketStream extends Duplex {
  private pending: Buffer | undefined;
  private closing = false;

  constructor(private readonly socket: net.Socket, head: Buffer, private readonly maxFrame: number) {
    super();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onBytes(chunk));
    socket.on('end', () => this.push(null));
    socket.on('close', () => this.destroy());
    socket.on('error', (err) => this.destroy(err));
    if (head.length > 0) this.onBytes(head);
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  private onBytes(chunk: Buffer): void {
    let buf = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = undefined;
    // Bounded: each turn consumes one whole frame or stops.
    while (buf.length >= 2 && !this.destroyed) {
      const b0 = buf[0] as number;
      const b1 = buf[1] as number;
      const opcode = b0 & 0x0f;
      const masked = (b1 & 0x80) !== 0;
      let length = b1 & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buf.length < 4) break;
        length = buf.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buf.length < 10) break;
        const high = buf.readUInt32BE(2);
        if (high !== 0) return this.fail(1009, 'frame too large');
        length = buf.readUInt32BE(6);
        offset = 10;
      }
      // Client frames must be masked (RFC 6455 §5.1); reserved bits must be clear (§5.2).
      if (!masked || (b0 & 0x70) !== 0) return this.fail(1002, 'protocol error');
      if (length > this.maxFrame) return this.fail(1009, 'frame too large');
      if (buf.length < offset + 4 + length) break;
      const mask = buf.subarray(offset, offset + 4);
      const payload = Buffer.from(buf.subarray(offset + 4, offset + 4 + length));
      for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (mask[i & 3] as number);
      buf = buf.subarray(offset + 4 + length);
      if (!this.onFrame(opcode, payload)) return;
    }
    if (buf.length > 0) this.pending = Buffer.from(buf);
  }

  private onFrame(opcode: number, payload: Buffer): boolean {
    switch (opcode) {
      case OP_BINARY:
      case OP_CONTINUATION:
        if (!this.push(payload)) this.socket.pause();
        return true;
      case OP_PING:
        this.socket.write(frame(OP_PONG, payload.subarray(0, 125)));
        return true;
      case OP_PONG:
        return true;
      case OP_CLOSE:
        this.closing = true;
        this.socket.end(frame(OP_CLOSE, payload.subarray(0, 2)));
        this.push(null);
        return false;
      case OP_TEXT:
        this.fail(1003, 'MQTT needs binary frames'); // [MQTT-6.0.0-1]
        return false;
      default:
        this.fail(1002, 'unknown opcode');
        return false;
    }
  }

  private fail(code: number, reason: string): void {
    if (this.closing) return;
    this.closing = true;
    const body = Buffer.alloc(2 + Buffer.byteLength(reason));
    body.writeUInt16BE(code, 0);
    body.write(reason, 2);
    this.socket.end(frame(OP_CLOSE, body));
    this.destroy(new Error(`websocket: ${reason}`));
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.closing) return cb();
    this.socket.write(frame(OP_BINARY, chunk), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (!this.closing) {
      this.closing = true;
      const body = Buffer.alloc(2);
      body.writeUInt16BE(1000, 0);
      this.socket.end(frame(OP_CLOSE, body));
    }
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.socket.destroy();
    cb(err);
  }
}

/** An unmasked server frame with FIN set (RFC 6455 §5.2). */
export function frame(opcode: number, payload: Buffer): Buffer {
  const n = payload.length;
  const headerLength = n < 126 ? 2 : n < 65_536 ? 4 : 10;
  const out = Buffer.allocUnsafe(headerLength + n);
  out[0] = 0x80 | opcode;
  if (n < 126) out[1] = n;
  else if (n < 65_536) {
    out[1] = 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 127;
    out.writeUInt32BE(0, 2);
    out.writeUInt32BE(n, 6);
  }
  payload.copy(out, headerLength);
  return out;
}

function refuse(socket: net.Socket, status: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export async function listenWebSocket(config: BrokerListenerConfig, onStream: (s: AcceptedStream) => void, logger: Logger, maxFrame = 16 * 1024 * 1024): Promise<Listener> {
  const server = config.protocol === 'wss' ? https.createServer(tlsOptions(config)) : http.createServer();
  server.on('request', (_req, res) => {
    res.writeHead(426, { Upgrade: 'websocket', Connection: 'Upgrade' }).end();
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    socket.on('error', () => undefined);
    const key = req.headers['sec-websocket-key'];
    const path = (req.url ?? '/').split('?')[0];
    if (path !== config.path) return refuse(socket, '404 Not Found');
    if (typeof key !== 'string' || req.headers['sec-websocket-version'] !== '13' || (req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
      return refuse(socket, '400 Bad Request');
    }
    const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    const protocol = SUBPROTOCOLS.find((p) => offered.includes(p));
    if (protocol === undefined) return refuse(socket, '400 Bad Request'); // [MQTT-6.0.0-3]
    const accept = createHash('sha1').update(key + GUID).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`);
    const stream = new WebSocketStream(socket, head, maxFrame);
    const identity = config.protocol === 'wss' ? certIdentity(socket as tls.TLSSocket, config) : undefined;
    onStream({ stream, remoteAddress: socket.remoteAddress ?? 'unknown', certIdentity: identity });
  });
  server.on('clientError', (err, socket) => {
    logger.debug({ err: err.message }, 'bad HTTP request on a WebSocket listener');
    socket.destroy();
  });
  return bind(server, config);
}
