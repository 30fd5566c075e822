// The observe endpoint: the status page (/, /status.json, /events), GET /metrics (Prometheus
// text) and GET /health (JSON). node:http only, node:https when `tls` is set. It binds loopback
// by default; off loopback every request needs a login (http-auth.ts).
import { readFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { socketKey } from '../broker/socket-gate.js';
import type { AddressInfo } from 'node:net';
import { FieldgateError } from '../errors.js';
import type { HealthRegistry } from './health.js';
import { HttpAccess } from './http-auth.js';
import type { Logger } from './logger.js';
import type { MetricsRegistry } from './metrics.js';
import type { StatusEvents } from './status-events.js';
import type { StatusSnapshot } from './status-model.js';
import { STATUS_PAGE_HTML, statusPageCsp } from './status-page/page.js';

// Built-ins through process.getBuiltinModule, not `import` (issue 15): an ESM import builds the
// module's ESM facade, which reads every export, lazy getters included; on Node 26 that loads
// undici for node:http's WebSocket getter (+16 MiB RSS in the demo). See src/broker/websocket.ts.
// node:https (and with it node:tls) only when `tls` is set: most sites serve plain HTTP on
// loopback and need neither (issue 15; drivers/opcua/lazy-load.test.ts checks the demo).
const { createServer } = process.getBuiltinModule('node:http');

export interface ObserveServerOptions {
  host: string;
  port: number;
  metrics: MetricsRegistry;
  health: HealthRegistry;
  logger: Logger;
  /** The status page; without it / answers 404 as before. */
  status?: { snapshot: () => StatusSnapshot; events: StatusEvents };
  /** Password file for requests that arrive off loopback; without it those get 403. */
  users?: string;
  tls?: { cert: string; key: string };
  /** Time a socket has for its TLS handshake and request headers (issue 18); default 10 s. */
  connectTimeoutMs?: number;
}

// Sockets on the observe port, overall and per source address (issue 18 item 4): idle TLS
// sockets once exhausted the file descriptors. Scrapers and status pages need a handful.
const MAX_SOCKETS = 256;
const MAX_SOCKETS_PER_ADDRESS = 32;

const SECURITY_HEADERS = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cache-control': 'no-store' } as const;

export class ObserveServer {
  private server: Server | undefined;
  private readonly access: HttpAccess;

  constructor(private readonly options: ObserveServerOptions) {
    this.access = new HttpAccess(options.users, options.logger);
  }

  async listen(): Promise<AddressInfo> {
    const { host, port, logger, tls } = this.options;
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((err: unknown) => {
        logger.error({ err, path: pathOf(req) }, 'observe request failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end();
      });
    };
    const deadline = this.options.connectTimeoutMs ?? 10_000;
    // Headers (and the TLS handshake) within the deadline, checked often enough to honour it.
    const limits = { headersTimeout: deadline, requestTimeout: 2 * deadline, keepAliveTimeout: 5_000, connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(deadline / 4))) };
    const server: Server =
      tls !== undefined
        ? process.getBuiltinModule('node:https').createServer({ cert: readTls('certificate', tls.cert), key: readTls('key', tls.key), handshakeTimeout: deadline, ...limits }, handler)
        : createServer(limits, handler);
    server.on('connection', this.admit);
    server.on('request', (req: IncomingMessage) => {
      const key = socketKey(req.socket);
      const t = this.firstRequest.get(key);
      if (t === undefined) return;
      clearTimeout(t);
      this.firstRequest.delete(key);
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(new FieldgateError('FG_ERR_LISTEN', `observe endpoint cannot listen on ${host}:${port}: ${e.code ?? e.message}`, { cause: e })),
      );
      server.listen(port, host, () => resolve());
    });
    const address = server.address() as AddressInfo;
    logger.info({ host: address.address, port: address.port, tls: tls !== undefined, login: this.options.users !== undefined }, 'observe endpoint listening (/, /metrics, /health)');
    return address;
  }

  private readonly perAddress = new Map<string, number>();
  private readonly firstRequest = new Map<string, NodeJS.Timeout>();
  private open = 0;

  /** Caps sockets at accept, before any handshake or header: overall and per source address. */
  private readonly admit = (socket: Socket): void => {
    socket.on('error', () => undefined);
    const address = socket.remoteAddress ?? 'unknown';
    const mine = this.perAddress.get(address) ?? 0;
    if (this.open >= MAX_SOCKETS || mine >= MAX_SOCKETS_PER_ADDRESS) {
      socket.destroy();
      return;
    }
    this.open++;
    this.perAddress.set(address, mine + 1);
    // Until its first request arrives, a socket (TLS handshake included) has the deadline;
    // after that, keepAliveTimeout and the server's header/request timeouts apply.
    const key = socketKey(socket);
    const timer = setTimeout(() => socket.destroy(), this.options.connectTimeoutMs ?? 10_000);
    this.firstRequest.set(key, timer);
    socket.once('close', () => {
      clearTimeout(timer);
      this.firstRequest.delete(key);
      this.open--;
      const n = (this.perAddress.get(address) ?? 1) - 1;
      if (n <= 0) this.perAddress.delete(address);
      else this.perAddress.set(address, n);
    });
  };

  async close(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    // Event streams never end on their own: end them first so close() does not wait.
    this.options.status?.events.close();
    for (const t of this.firstRequest.values()) clearTimeout(t);
    this.firstRequest.clear();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { metrics, health, logger, status } = this.options;
    const path = pathOf(req);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const access = await this.access.check(req);
    if (!access.ok) {
      // The remote address only: never the Authorization header or the name typed with it.
      // Bad passwords are summarised once a minute by the login guard (issue 18), not one line each.
      if (access.status !== 401) logger.warn({ remote: req.socket.remoteAddress, path, reason: access.reason }, 'observe request refused');
      const headers: Record<string, string> = { 'content-type': 'text/plain', ...SECURITY_HEADERS };
      if (access.status === 401) headers['www-authenticate'] = 'Basic realm="fieldgate", charset="UTF-8"';
      if (access.status === 503) headers['retry-after'] = '1';
      res.writeHead(access.status, headers).end(`${access.reason}\n`);
      return;
    }
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(metrics.render());
    } else if (path === '/health') {
      const report = health.report();
      res
        .writeHead(report.status === 'down' ? 503 : 200, { 'content-type': 'application/json' })
        .end(JSON.stringify(report, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
    } else if (status !== undefined && path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': statusPageCsp(), 'x-frame-options': 'DENY', ...SECURITY_HEADERS }).end(STATUS_PAGE_HTML);
    } else if (status !== undefined && path === '/status.json') {
      res.writeHead(200, { 'content-type': 'application/json', ...SECURITY_HEADERS }).end(JSON.stringify(status.snapshot()));
    } else if (status !== undefined && path === '/events') {
      if (req.method === 'HEAD') res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' }).end();
      else status.events.attach(req, res);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: try ${status !== undefined ? '/, /status.json, ' : ''}/metrics or /health\n`);
    }
  }
}

function pathOf(req: IncomingMessage): string {
  return (req.url ?? '/').split('?')[0] ?? '/';
}

function readTls(what: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new FieldgateError('FG_ERR_CONFIG', `observe.http.tls: cannot read the ${what} ${path}: ${(e as Error).message}`, { cause: e });
  }
}
