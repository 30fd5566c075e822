// A TCP proxy between an MQTT broker and one client that can drop chosen PUBLISH packets on
// their way to the client: a message lost between broker and consumer, as a seq-gap test needs.
import net, { type Socket } from 'node:net';
import { listenLoopback, tieSockets } from './ports.js';
import { readVariableByteInteger } from '../../src/mqtt/variable-byte-integer.js';

/** Splits a byte stream into whole MQTT packets (fixed header + Remaining Length). */
function takePackets(buf: Buffer): { packets: Buffer[]; rest: Buffer } {
  const packets: Buffer[] = [];
  let pos = 0;
  const length = { value: 0, next: 0 };
  for (;;) {
    if (readVariableByteInteger(buf, pos + 1, buf.length, length) !== 'ok' || length.next + length.value > buf.length) return { packets, rest: buf.subarray(pos) };
    packets.push(buf.subarray(pos, length.next + length.value));
    pos = length.next + length.value;
  }
}

function publishTopic(p: Buffer): string | undefined {
  if ((p[0] as number) >> 4 !== 3) return undefined;
  let i = 1;
  while (((p[i] as number) & 0x80) !== 0) i++;
  i++;
  const n = p.readUInt16BE(i);
  return p.subarray(i + 2, i + 2 + n).toString('utf8');
}

export class DroppingProxy {
  port = 0;
  /** PUBLISHes to the client matching this are dropped while `budget` > 0. */
  drop: { match: (topic: string) => boolean; budget: number } | undefined;
  dropped: string[] = [];
  private server: net.Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly upstreamPort: number) {}

  async start(): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.upstreamPort, '127.0.0.1');
      this.sockets.add(client).add(upstream);
      client.on('data', (d) => upstream.write(d));
      let pending = Buffer.alloc(0);
      upstream.on('data', (d) => {
        const { packets, rest } = takePackets(Buffer.concat([pending, d]));
        pending = Buffer.from(rest);
        for (const p of packets) {
          const topic = publishTopic(p);
          if (topic !== undefined && this.drop !== undefined && this.drop.budget > 0 && this.drop.match(topic)) {
            this.drop.budget -= 1;
            this.dropped.push(topic);
            continue;
          }
          client.write(p);
        }
      });
      tieSockets(client, upstream);
    });
    this.port = await listenLoopback(this.server);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server === undefined ? r() : this.server.close(() => r())));
  }
}
