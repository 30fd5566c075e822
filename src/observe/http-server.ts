// The observe endpoint: GET /metrics (Prometheus text) and GET /health (JSON). node:http only;
// it binds loopback by default because nothing on it is meant for the plant network.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FieldgateError } from '../errors.js';
import type { HealthRegistry } from './health.js';
import type { Logger } from './logger.js';
import type { MetricsRegistry } from './metrics.js';

export interface ObserveServerOptions {
  host: string;
  port: number;
  metrics: MetricsRegistry;
  health: HealthRegistry;
  logger: Logger;
}

export class ObserveServer {
  private server: Server | undefined;

  constructor(private readonly options: ObserveServerOptions) {}

  async listen(): Promise<AddressInfo> {
    const { host, port, metrics, health, logger } = this.options;
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if (path === '/metrics') {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(metrics.render());
      } else if (path === '/health') {
        const report = health.report();
        res
          .writeHead(report.status === 'down' ? 503 : 200, { 'content-type': 'application/json' })
          .end(JSON.stringify(report, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /health\n');
      }
    });
    // Scrapers keep connections alive; close() must not wait for them.
    server.keepAliveTimeout = 5_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(new FieldgateError('FG_ERR_LISTEN', `observe endpoint cannot listen on ${host}:${port}: ${e.code ?? e.message}`, { cause: e })),
      );
      server.listen(port, host, () => resolve());
    });
    const address = server.address() as AddressInfo;
    logger.info({ host: address.address, port: address.port }, 'observe endpoint listening (/metrics, /health)');
    return address;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
