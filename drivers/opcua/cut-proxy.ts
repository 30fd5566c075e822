// Test fixture: a loopback TCP proxy whose cable can be pulled (every connection destroyed and
// new ones refused) and plugged back, to play network loss between the gateway and a server.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export class CutProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private cut = false;
  port = 0;

  constructor(private readonly targetPort: number) {}

  async start(): Promise<number> {
    const server = createServer((client) => {
      if (this.cut) return void client.destroy();
      const upstream = createConnection({ host: '127.0.0.1', port: this.targetPort });
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined); // a cut connection errors on both sides by design
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    return this.port;
  }

  pull(): void {
    this.cut = true;
    for (const s of this.sockets) s.destroy();
  }

  plug(): void {
    this.cut = false;
  }

  async close(): Promise<void> {
    this.pull();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
