// Issue 15: what the broker keeps in memory for itself. Raw sockets and hand-written bytes
// only, so that nothing but the broker touches mqtt-packet's encoder in this process.
import { createRequire } from 'node:module';
import type net from 'node:net';
import { describe, expect, it } from 'vitest';
import { rawSocket, sleep, useBroker } from '../../test/helpers/broker.js';
import { PAYLOAD_SLAB_BYTES } from './codec.js';
import { OutBatch } from './out-batch.js';
import type { Message } from './types.js';

const startBroker = useBroker();
const { cache } = createRequire(import.meta.url)('mqtt-packet/numbers.js') as { cache: Record<number, Buffer> };

function received(s: net.Socket, bytes: number, ms = 5000): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`only ${total} of ${bytes} bytes`)), ms);
    s.on('data', (c: Buffer) => {
      chunks.push(c);
      total += c.length;
      if (total >= bytes) {
        clearTimeout(t);
        resolve(Buffer.concat(chunks));
      }
    });
  });
}

describe('broker memory of its own (issue 15)', () => {
  it("answering clients never builds mqtt-packet's 65,536-Buffer number cache (6.5 MiB of old space)", async () => {
    const { port } = await startBroker();
    const s = await rawSocket(port);
    const reply = received(s, 4 + 5 + 8 + 4);
    s.write(Buffer.concat([
      Buffer.from([0x10, 15, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 30, 0, 3, 0x72, 0x61, 0x77]), // CONNECT "raw", 3.1.1
      Buffer.from([0x82, 6, 0, 1, 0, 1, 0x74, 1]), // SUBSCRIBE t, QoS 1
      Buffer.from([0x32, 6, 0, 1, 0x74, 0, 2, 0x78]), // PUBLISH t "x", QoS 1, id 2
    ]));
    const bytes = await reply;
    s.destroy();
    expect(bytes.subarray(0, 4)).toEqual(Buffer.from([0x20, 2, 0, 0])); // CONNACK (mqtt-packet's generate)
    expect(bytes.subarray(4, 9)).toEqual(Buffer.from([0x90, 3, 0, 1, 1])); // SUBACK
    expect(Object.keys(cache).length).toBe(0);
  });

  it('a QoS 0 message an in-process subscriber keeps does not pin the socket chunk it arrived in', async () => {
    const { broker, port } = await startBroker();
    const kept: Message[] = [];
    broker.subscribe('keep/#', (m) => kept.push(m));
    const s = await rawSocket(port);
    const connack = received(s, 4);
    s.write(Buffer.from([0x10, 16, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 30, 0, 4, 0x6b, 0x65, 0x65, 0x70])); // CONNECT "keep"
    await connack;
    // 2000 QoS 0 PUBLISHes to keep/1, "xyz", in one 26 KB write: read as a chunk far larger than one message.
    const one = Buffer.from([0x30, 11, 0, 6, 0x6b, 0x65, 0x65, 0x70, 0x2f, 0x31, 0x78, 0x79, 0x7a]);
    s.write(Buffer.concat(Array.from({ length: 2000 }, () => one)));
    for (let i = 0; i < 100 && kept.length < 2000; i++) await sleep(20);
    s.destroy();
    expect(kept.length).toBe(2000);
    expect(kept.every((m) => m.payload.toString() === 'xyz')).toBe(true);
    // At most a slice of a 16 KiB payload slab: never the read chunk behind it, nor a slab of
    // Node 26's 64 KiB Buffer pool.
    expect(Math.max(...kept.map((m) => m.payload.buffer.byteLength))).toBeLessThanOrEqual(PAYLOAD_SLAB_BYTES);
  });

  it('gathers what a connection sends during one tick into one write, in order', async () => {
    const writes: Buffer[] = [];
    const out = new OutBatch((chunk) => (writes.push(Buffer.from(chunk)), true));
    for (let i = 0; i < 300; i++) out.append(Buffer.from([i & 0xff, 1, 2]));
    const buf = out.reserve(2);
    buf[out.length] = 0xaa;
    buf[out.length + 1] = 0xbb;
    out.commit(2);
    expect(writes.length).toBe(0);
    await new Promise((r) => process.nextTick(r));
    expect(writes.length).toBe(1);
    expect(writes[0]!.length).toBe(902);
    expect([writes[0]![0], writes[0]![897], writes[0]![900], writes[0]![901]]).toEqual([0, 299 & 0xff, 0xaa, 0xbb]);
    out.append(Buffer.from([9]));
    out.discard(); // the connection went away: nothing more is written
    await new Promise((r) => process.nextTick(r));
    expect(writes.length).toBe(1);
  });
});

