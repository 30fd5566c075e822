// A TCP proxy between the bridge and an MQTT broker that forwards every byte unchanged and
// records, per connection, each PUBLISH the client sends (packet id, QoS, the dedup key's
// sequence from the Sparkplug payload) and each PUBACK the broker returns. Issue 13: it answers
// "which PUBLISH of this record did the broker PUBACK, on which connection, and when, relative
// to the broker's crash" for any value the consumer never saw.
import net, { type Socket } from 'node:net';
import { listenLoopback, tieSockets } from './ports.js';
import { readSparkplugDedupField } from '../../src/bridge/dedup-key.js';
import { readVariableByteInteger } from '../../src/mqtt/variable-byte-integer.js';

export interface WireEvent {
  /** Milliseconds since the proxy started. */
  t: number;
  conn: number;
  kind: 'publish' | 'puback' | 'open' | 'close' | 'mark';
  id?: number;
  qos?: number;
  seq?: number;
  note?: string;
}

/** Frames an MQTT byte stream into whole packets; keeps the tail for the next chunk. */
class Framer {
  private rest = Buffer.alloc(0);

  push(chunk: Buffer, each: (p: Buffer, hdr: number) => void): void {
    const buf = this.rest.length === 0 ? chunk : Buffer.concat([this.rest, chunk]);
    let pos = 0;
    const length = { value: 0, next: 0 };
    for (;;) {
      if (readVariableByteInteger(buf, pos + 1, buf.length, length) !== 'ok' || length.next + length.value > buf.length) break;
      each(buf.subarray(pos, length.next + length.value), length.next - pos);
      pos = length.next + length.value;
    }
    this.rest = Buffer.from(buf.subarray(pos));
  }
}

export class WireLogProxy {
  port = 0;
  readonly events: WireEvent[] = [];
  private readonly t0 = Date.now();
  private server: net.Server | undefined;
  private readonly sockets = new Set<Socket>();
  private conns = 0;

  /** @param protocolVersion of the sessions it carries (MQTT 5 PUBLISHes have properties). */
  constructor(private readonly upstreamPort: number, private readonly protocolVersion: 4 | 5 = 4) {}

  /** A point on the timeline (the broker killed...); returns its time. */
  mark(note: string): number {
    const t = Date.now() - this.t0;
    this.events.push({ t, conn: 0, kind: 'mark', note });
    return t;
  }

  async start(): Promise<void> {
    this.server = net.createServer((client) => {
      const conn = ++this.conns;
      const upstream = net.connect(this.upstreamPort, '127.0.0.1');
      this.sockets.add(client).add(upstream);
      this.events.push({ t: Date.now() - this.t0, conn, kind: 'open' });
      const fromClient = new Framer();
      const fromServer = new Framer();
      // A connection's first CONNECT tells its protocol level (the bridge may fall back to 4).
      let version = this.protocolVersion;
      client.on('data', (d: Buffer) => {
        fromClient.push(d, (p, hdr) => {
          const type = (p[0] as number) >> 4;
          if (type === 1) version = (p[hdr + 6] as number) === 5 ? 5 : 4; // after "\0\4MQTT"
          if (type !== 3) return;
          const qos = ((p[0] as number) >> 1) & 3;
          let o = hdr;
          const tlen = p.readUInt16BE(o);
          o += 2 + tlen;
          let id: number | undefined;
          if (qos > 0) {
            id = p.readUInt16BE(o);
            o += 2;
          }
          if (version === 5) {
            const properties = { value: 0, next: 0 };
            if (readVariableByteInteger(p, o, p.length, properties) !== 'ok') return;
            o = properties.next + properties.value;
          }
          const key = readSparkplugDedupField(p.subarray(o));
          this.events.push({ t: Date.now() - this.t0, conn, kind: 'publish', qos, ...(id !== undefined ? { id } : {}), ...(key !== undefined ? { seq: key.seq } : {}) });
        });
        upstream.write(d);
      });
      upstream.on('data', (d: Buffer) => {
        fromServer.push(d, (p, hdr) => {
          if ((p[0] as number) >> 4 === 4) this.events.push({ t: Date.now() - this.t0, conn, kind: 'puback', id: p.readUInt16BE(hdr) });
        });
        client.write(d);
      });
      let closed = false;
      tieSockets(client, upstream, () => {
        if (!closed) this.events.push({ t: Date.now() - this.t0, conn, kind: 'close' });
        closed = true;
      });
    });
    this.port = await listenLoopback(this.server);
  }

  /**
   * For each sequence: every PUBLISH that carried it and whether (and when) the broker PUBACKed
   * that packet id on that connection before the id was used again. One line per PUBLISH.
   */
  explain(seqs: number[]): string[] {
    return this.publishes(seqs).map((p) => `seq ${p.seq}: conn ${p.conn} qos ${String(p.qos)} id ${String(p.id)} published t=${p.t} ${p.ackT !== undefined ? `PUBACKed t=${p.ackT}` : 'never PUBACKed'}`);
  }

  private ackTimes(seqs: number[]): Array<{ seq: number; t: number }> {
    return this.publishes(seqs).flatMap((p) => (p.ackT !== undefined ? [{ seq: p.seq, t: p.ackT }] : []));
  }

  /** Each PUBLISH of one of `seqs`, with the PUBACK of its packet id on its connection, if any. */
  private publishes(seqs: number[]): Array<{ seq: number; conn: number; qos?: number; id?: number; t: number; ackT?: number }> {
    const want = new Set(seqs);
    const out: Array<{ seq: number; conn: number; qos?: number; id?: number; t: number; ackT?: number }> = [];
    const byConn = new Map<number, WireEvent[]>();
    for (const e of this.events) {
      if (e.kind !== 'publish' && e.kind !== 'puback') continue;
      let l = byConn.get(e.conn);
      if (l === undefined) byConn.set(e.conn, (l = []));
      l.push(e);
    }
    for (const [conn, evs] of byConn) {
      for (let i = 0; i < evs.length; i++) {
        const e = evs[i] as WireEvent;
        if (e.kind !== 'publish' || e.seq === undefined || !want.has(e.seq)) continue;
        let ack: WireEvent | undefined;
        // QoS 0 has no packet id and no PUBACK.
        for (let j = i + 1; e.id !== undefined && j < evs.length; j++) {
          const f = evs[j] as WireEvent;
          if (f.id !== e.id) continue;
          if (f.kind === 'puback') ack = f;
          break;
        }
        out.push({ seq: e.seq, conn, t: e.t, ...(e.qos !== undefined ? { qos: e.qos } : {}), ...(e.id !== undefined ? { id: e.id } : {}), ...(ack !== undefined ? { ackT: ack.t } : {}) });
      }
    }
    return out;
  }

  /**
   * Splits sequences the consumer never saw: `brokerLost`, some PUBLISH of it was PUBACKed by
   * the broker (its own packet id, on its own connection): the sender was entitled to delete
   * it; `unexplained`, no PUBACK of its own was ever seen (the sender's fault if it deleted it).
   * `ackedBefore`: how many of the broker's losses were PUBACKed before time `before`.
   */
  proof(seqs: number[], before: number): { brokerLost: number[]; unexplained: number[]; ackedBefore: number } {
    const acked = new Map<number, number>();
    for (const line of this.ackTimes(seqs)) if (!acked.has(line.seq) || line.t < (acked.get(line.seq) as number)) acked.set(line.seq, line.t);
    const brokerLost = seqs.filter((s) => acked.has(s));
    return { brokerLost, unexplained: seqs.filter((s) => !acked.has(s)), ackedBefore: brokerLost.filter((s) => (acked.get(s) as number) <= before).length };
  }

  /** Marks, opens and closes: the timeline the explanation is read against. */
  timeline(): string[] {
    return this.events.filter((e) => e.kind === 'mark' || e.kind === 'open' || e.kind === 'close').map((e) => `t=${e.t} conn ${e.conn} ${e.kind}${e.note !== undefined ? ` ${e.note}` : ''}`);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server === undefined ? r() : this.server.close(() => r())));
  }
}
