// Issue 18 item 4, observe port: idle sockets (no request, or headers that never end) are
// closed within the deadline, the number of sockets is capped per source address and overall,
// and a flood from one address (127.0.0.5) leaves the port usable from another.
import net from 'node:net';
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { HealthRegistry } from './health.js';
import { ObserveServer } from './http-server.js';
import { silentLogger } from './logger.js';
import { MetricsRegistry } from './metrics.js';
import { openIdle } from '../../test/helpers/ports.js';

let server: ObserveServer | undefined;
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await server?.close();
  server = undefined;
});

const open = (port: number, localAddress: string) => openIdle(port, localAddress, sockets);

function get(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/health', agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

/**
 * A status port with a 1 s connect deadline and two loopback clients on it: one idle, one
 * whose request headers never end. t0: when they connected.
 */
async function serverWithIdleAndSlow() {
  server = new ObserveServer({ host: '127.0.0.1', port: 0, metrics: new MetricsRegistry(), health: new HealthRegistry(), logger: silentLogger(), connectTimeoutMs: 1000 });
  const { port } = await server.listen();
  const t0 = Date.now();
  const idle = await open(port, '127.0.0.1');
  const slow = await open(port, '127.0.0.1');
  slow.s.write('GET /health HTTP/1.1\r\nHost: x\r\n'); // never finishes its headers
  return { port, t0, idle, slow };
}

/** Each client was closed by the server, within 4 s of t0 (deadline 1 s, room for a loaded box). */
async function expectClosedInTime(clients: Array<{ closedAt: Promise<number> }>, t0: number): Promise<void> {
  for (const x of clients) {
    const at = await Promise.race([x.closedAt, new Promise<number>((r) => setTimeout(() => r(0), 6000))]);
    expect(at).toBeGreaterThan(0);
    expect(at - t0).toBeLessThan(4000);
  }
}

describe('observe port deadlines and caps (issue 18)', () => {
  it('closes idle and slow-header sockets within the deadline; a flood from one address leaves others served', { timeout: 20_000 }, async () => {
    const { port, t0, idle, slow } = await serverWithIdleAndSlow();
    const flood = await Promise.all(Array.from({ length: 300 }, () => open(port, '127.0.0.5')));
    expect(await get(port)).toBe(200);
    const refusedAtOnce = (await Promise.all(flood.map((f) => Promise.race([f.closedAt, new Promise<number>((r) => setTimeout(() => r(0), 300))])))).filter((t) => t > 0).length;
    expect(refusedAtOnce).toBeGreaterThanOrEqual(300 - 32);
    await expectClosedInTime([idle, slow], t0);
  });

  // The CI flake (issue 15): on a loaded box the event loop stalled past the deadline, so
  // node:http's headers check (due earlier than ObserveServer's timer) ran first and answered
  // 408 before closing. The server did close both sockets in time; the test's client never read
  // the 408, so it never saw the FIN. A busy loop stands in for the load, deterministically.
  it('closes idle and slow-header sockets when the event loop stalls past the deadline', { timeout: 20_000 }, async () => {
    const { t0, idle, slow } = await serverWithIdleAndSlow();
    await new Promise((r) => setTimeout(r, 50));
    const end = Date.now() + 1300;
    while (Date.now() < end); // no CPU for 1.3 s
    await expectClosedInTime([idle, slow], t0);
  });
});
