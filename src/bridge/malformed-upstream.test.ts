// Fault: an upstream that answers CONNACK and then sends bytes that are not MQTT. The session
// is dropped and retried with backoff, nothing is acknowledged, nothing crashes.
import net, { type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../observe/metrics.js';
import { MemoryOutbox } from '../store/memory-outbox.js';
import { makeBridge, until } from '../../test/helpers/bridge-fixture.js';
import { sample } from '../../test/helpers/records.js';
import type { Bridge } from './bridge.js';

let server: net.Server | undefined;
const sockets = new Set<Socket>();
let bridge: Bridge | undefined;

afterEach(async () => {
  await bridge?.stop();
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
});

describe('malformed upstream', () => {
  it('drops the session on garbage after CONNACK, retries, and acknowledges nothing', async () => {
    let connections = 0;
    const at: number[] = [];
    server = net.createServer((socket) => {
      sockets.add(socket);
      connections++;
      at.push(Date.now());
      let answered = false;
      socket.on('data', () => {
        if (!answered) {
          answered = true;
          socket.write(Buffer.from([0x20, 0x02, 0x00, 0x00])); // CONNACK, accepted
        } else {
          // Reserved packet type 0 with a remaining length that never ends [MQTT-2.2.3].
          socket.write(Buffer.from([0x00, 0xff, 0xff, 0xff, 0xff, 0xff]));
        }
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    const outbox = new MemoryOutbox({ maxBytes: 1e9, maxAgeMs: 1e9, onFull: 'drop-oldest' });
    outbox.append(Array.from({ length: 10 }, (_, i) => sample('d', i)));
    const metrics = new MetricsRegistry();
    bridge = makeBridge(outbox, `mqtt://127.0.0.1:${port}`, { metrics, backoff: { minMs: 40, maxMs: 1000, jitter: 0 } });
    bridge.start();
    await until(() => connections >= 4, 10_000, 'four sessions');
    // Accepted-then-dropped sessions do not reset the backoff: at least 40, 80, 160 ms apart
    // (lower bounds only: a loaded machine stretches gaps, never shortens them). With a reset
    // on every CONNACK the third gap would be ~40 ms.
    const gaps = at.slice(1, 4).map((t, i) => t - (at[i] ?? 0));
    expect(gaps[2] ?? 0).toBeGreaterThanOrEqual(155);
    expect(outbox.stats()).toMatchObject({ depth: 10, ackedThrough: 0 });
    expect(Number(/fieldgate_upstream_reconnects_total (\d+)/.exec(metrics.render())?.[1])).toBeGreaterThanOrEqual(2);
  });
});
