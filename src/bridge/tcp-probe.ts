// Issue 17, preferFirst: is the first server back? A plain TCP connect, no MQTT: Sparkplug
// allows one MQTT session at a time, and a second CONNECT with our client id would end the
// live one on a broker that shares sessions (a cluster).
import net from 'node:net';

const DEFAULT_PORTS: Record<string, number> = { 'mqtt:': 1883, 'mqtts:': 8883, 'ws:': 80, 'wss:': 443 };

/** True when the URL's host accepts a TCP connection within `timeoutMs`. */
export function tcpReachable(url: string, timeoutMs: number): Promise<boolean> {
  let host: string;
  let port: number;
  try {
    const u = new URL(url);
    host = u.hostname.replace(/^\[|\]$/g, '');
    port = u.port !== '' ? Number(u.port) : (DEFAULT_PORTS[u.protocol] ?? 1883);
  } catch {
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    // Plain TCP even for TLS URLs: reachability only, no handshake.
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
