// Loopback ports for peers that need a number before they start (mosquitto, RabbitMQ).
import net, { type AddressInfo, type Server, type Socket } from 'node:net';

/** A port the OS just handed out and released: free unless someone races for it. */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** True when something accepts a TCP connection on the loopback port now. */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
}

/** Listens on a port the OS picks on loopback; resolves with the port. */
export async function listenLoopback(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as AddressInfo).port;
}

/** A proxied connection's two sockets end together: on a close or an error of either, `onEnd` runs and both are destroyed. */
export function tieSockets(client: Socket, upstream: Socket, onEnd?: () => void): void {
  const end = (): void => {
    onEnd?.();
    client.destroy();
    upstream.destroy();
  };
  client.on('close', end).on('error', end);
  upstream.on('close', end).on('error', end);
}

/**
 * A client that connects and sends nothing (idle-socket tests): resolves once it is connected,
 * or closed at once (refused), with when it closed; `track` collects it for the test's cleanup.
 */
export function openIdle(port: number, localAddress: string, track: Socket[]): Promise<{ s: Socket; closedAt: Promise<number> }> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress });
    track.push(s);
    s.on('error', () => undefined);
    // Read what the server sends, as any real client does: a server may answer before closing
    // (node:http's own headers check sends "408 Request Timeout"), and a socket that never reads
    // those bytes never sees the FIN behind them, so it would never emit 'close'.
    s.resume();
    const closedAt = new Promise<number>((r) => s.once('close', () => r(Date.now())));
    s.once('connect', () => resolve({ s, closedAt }));
    s.once('close', () => resolve({ s, closedAt }));
  });
}
