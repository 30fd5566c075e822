// Garbage from a device must fail that poll (and at most that connection), never the process.
// Each peer here is a bare TCP server answering Modbus TCP requests with a broken reply.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { createModbusDriver } from './index.js';
import { harness, signal } from './testing/harness.js';
import { useCleanups } from '../../test/helpers/cleanups.js';

const cleanups = useCleanups();

/** A proper FC3 answer with two registers 0x3F80 0x0000 (float32 1.0). */
function goodReply(req: Buffer): Buffer {
  return Buffer.from([req[0] ?? 0, req[1] ?? 0, 0, 0, 0, 7, req[6] ?? 1, 3, 4, 0x3f, 0x80, 0, 0]);
}

/** A server that answers every request with `reply(request)` until `healed` is set. */
async function brokenServer(reply: (req: Buffer) => Buffer, state: { healed: boolean }): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
    s.on('data', (d) => s.write(state.healed ? goodReply(d) : reply(d)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return (server.address() as net.AddressInfo).port;
}

const REPLIES: Array<[string, (req: Buffer) => Buffer]> = [
  ['random bytes', () => Buffer.from([0x13, 0x37, 0xde, 0xad, 0xbe, 0xef, 0x00])],
  // Right transaction id, FC3, but a byte count that promises more registers than follow.
  ['short register payload', (req) => Buffer.from([req[0] ?? 0, req[1] ?? 0, 0, 0, 0, 5, 1, 3, 4, 0x12, 0x34])],
  // A reply for the wrong function code.
  ['wrong function code', (req) => Buffer.from([req[0] ?? 0, req[1] ?? 0, 0, 0, 0, 5, 1, 4, 2, 0x12, 0x34])],
  // An MBAP length far beyond what follows.
  ['oversized MBAP length', (req) => Buffer.from([req[0] ?? 0, req[1] ?? 0, 0, 0, 0xff, 0xff, 1, 3])],
];

describe('malformed replies', () => {
  for (const [name, reply] of REPLIES) {
    it(`${name}: the poll fails with a modbus error, the process goes on, the next good reply is read`, async () => {
      const state = { healed: false };
      const port = await brokenServer(reply, state);
      const h = harness(createModbusDriver(), {
        name: 'junk', driver: 'modbus', timeout: '1s',
        connection: { host: '127.0.0.1', port, retries: 0, requestTimeout: '200ms' },
        tags: [{ name: 'a', address: 0, type: 'float32' }],
      });
      cleanups.push(() => h.driver.stop());
      await h.driver.start();
      const err = await h.driver.poll(signal()).then(() => undefined, (e: unknown) => e);
      expect(err).toMatchObject({ code: expect.stringMatching(/^FG_ERR_MODBUS_(TIMEOUT|CRC|CONNECTION|DECODE)$/) });
      // Whatever the junk left in the stream, the driver must be back in step.
      state.healed = true;
      expect((await h.driver.poll(signal()))[0]).toMatchObject({ value: 1, quality: 'GOOD' });
    });
  }
});
