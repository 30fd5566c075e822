// What the edge node's upstream CONNECT carries, read from the bytes on the socket rather than
// from the options we hand mqtt.js: a raw loopback server keeps every CONNECT verbatim, and a
// hand-written reader (no mqtt-packet, which is also what mqtt.js encodes with) decodes its
// flags, properties and Will. Sparkplug 3.0 asks for Clean Session on 3.1.1
// [tck-id-principles-persistence-clean-session-311] and Clean Start with Session Expiry 0 on 5.0
// [tck-id-principles-persistence-clean-session-50], and the NDEATH as the Will, QoS 1, not
// retained, whose bdSeq matches the NBIRTH that follows [tck-id-payloads-ndeath-will-message],
// [tck-id-payloads-ndeath-will-message-qos], [tck-id-payloads-ndeath-will-message-retain].
import net, { type AddressInfo, type Socket } from 'node:net';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { until } from '../helpers/until.js';
import { decodeIndependently } from './independent-decoder.js';
import { startGateway } from './gateway-fixture.js';
import { useCleanups } from '../helpers/cleanups.js';

const cleanups = useCleanups({ ignoreErrors: true });

interface WireConnect {
  protocolName: string;
  level: number;
  cleanStart: boolean;
  keepalive: number;
  /** Property id -> raw value bytes, CONNECT properties only (v5). */
  properties: Map<number, Buffer[]>;
  clientId: string;
  will?: { qos: number; retain: boolean; topic: string; payload: Buffer; properties: Map<number, Buffer[]> };
}

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  u8(): number {
    if (this.pos >= this.buf.length) throw new Error('CONNECT truncated');
    return this.buf[this.pos++]!;
  }
  u16(): number {
    return (this.u8() << 8) | this.u8();
  }
  bytes(n: number): Buffer {
    if (this.pos + n > this.buf.length) throw new Error('CONNECT truncated');
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  varint(): number {
    let value = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      const b = this.u8();
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return value;
    }
    throw new Error('malformed variable byte integer');
  }
  binary(): Buffer {
    return this.bytes(this.u16());
  }
  utf8(): string {
    return this.binary().toString('utf8');
  }
  get done(): boolean {
    return this.pos === this.buf.length;
  }
}

/** MQTT 5 section 2.2.2.2: the properties a CONNECT or a Will may carry, by id. */
function readProperties(r: Reader): Map<number, Buffer[]> {
  const out = new Map<number, Buffer[]>();
  const end = r.varint() + r.pos;
  while (r.pos < end) {
    const id = r.varint();
    const start = r.pos;
    switch (id) {
      case 0x01: case 0x17: case 0x19: r.bytes(1); break; // payload format, request problem/response info
      case 0x21: case 0x22: r.bytes(2); break; // receive maximum, topic alias maximum
      case 0x02: case 0x11: case 0x18: case 0x27: r.bytes(4); break; // message expiry, session expiry, will delay, max packet size
      case 0x03: case 0x08: case 0x15: case 0x09: case 0x16: r.binary(); break; // strings and binary data
      case 0x26: r.binary(); r.binary(); break; // user property: a string pair
      default: throw new Error(`unexpected property 0x${id.toString(16)} in CONNECT`);
    }
    const list = out.get(id) ?? [];
    list.push(Buffer.from(r.buf.subarray(start, r.pos)));
    out.set(id, list);
  }
  if (r.pos !== end) throw new Error('property length mismatch');
  return out;
}

/** Decodes one whole CONNECT packet (fixed header included), MQTT 3.1.1 section 3.1 / 5.0 section 3.1. */
function readConnect(packet: Buffer): WireConnect {
  const r = new Reader(packet);
  const type = r.u8();
  if (type !== 0x10) throw new Error(`first packet is 0x${type.toString(16)}, not CONNECT`);
  const remaining = r.varint();
  if (r.pos + remaining !== packet.length) throw new Error('remaining length mismatch');
  const protocolName = r.utf8();
  const level = r.u8();
  const flags = r.u8();
  if ((flags & 0x01) !== 0) throw new Error('reserved CONNECT flag set');
  const keepalive = r.u16();
  const properties = level === 5 ? readProperties(r) : new Map<number, Buffer[]>();
  const clientId = r.utf8();
  const out: WireConnect = { protocolName, level, cleanStart: (flags & 0x02) !== 0, keepalive, properties, clientId };
  if ((flags & 0x04) !== 0) {
    const willProperties = level === 5 ? readProperties(r) : new Map<number, Buffer[]>();
    const topic = r.utf8();
    const payload = Buffer.from(r.binary());
    out.will = { qos: (flags >> 3) & 0x03, retain: (flags & 0x20) !== 0, topic, payload, properties: willProperties };
  }
  if ((flags & 0x80) !== 0) r.utf8();
  if ((flags & 0x40) !== 0) r.binary();
  if (!r.done) throw new Error('bytes left after the CONNECT payload');
  return out;
}

interface Session {
  connect: WireConnect;
  /** NBIRTH payloads published on this connection. */
  nbirths: Buffer[];
  socket: Socket;
}

/**
 * A loopback broker just real enough for the edge node to come up (CONNACK, SUBACK, PUBACK,
 * PINGRESP), that keeps each connection's first packet as it arrived.
 */
async function startCapturingBroker() {
  const sessions: Session[] = [];
  const sockets = new Set<Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let raw: Buffer | undefined = Buffer.alloc(0);
    let session: Session | undefined;
    let version: 4 | 5 = 4;
    const parser = mqttPacket.parser();
    const send = (p: object) => socket.write(mqttPacket.generate(p as mqttPacket.Packet, { protocolVersion: version }));
    parser.on('packet', (p: mqttPacket.Packet) => {
      if (p.cmd === 'connect') {
        version = p.protocolVersion === 5 ? 5 : 4;
        send(version === 5 ? { cmd: 'connack', sessionPresent: false, reasonCode: 0, properties: {} } : { cmd: 'connack', sessionPresent: false, returnCode: 0 });
      } else if (p.cmd === 'subscribe') {
        send({ cmd: 'suback', messageId: p.messageId, granted: p.subscriptions.map((s) => s.qos) });
      } else if (p.cmd === 'publish') {
        if (/^spBv1\.0\/[^/]+\/NBIRTH\//.test(p.topic)) session?.nbirths.push(Buffer.from(p.payload as Buffer));
        if (p.qos === 1) send(version === 5 ? { cmd: 'puback', messageId: p.messageId, reasonCode: 0 } : { cmd: 'puback', messageId: p.messageId });
      } else if (p.cmd === 'pingreq') send({ cmd: 'pingresp' });
    });
    parser.on('error', () => socket.destroy());
    socket.on('data', (d: Buffer) => {
      if (raw !== undefined) {
        // Cut the first packet out of the stream by its fixed header, before anyone parses it.
        raw = Buffer.concat([raw, d]);
        let len = 0;
        let i = 1;
        for (let shift = 0; i < raw.length; shift += 7) {
          const b = raw[i++]!;
          len += (b & 0x7f) * 2 ** shift;
          if ((b & 0x80) === 0) break;
        }
        if (raw.length >= 2 && i + len <= raw.length && (raw[i - 1]! & 0x80) === 0) {
          session = { connect: readConnect(raw.subarray(0, i + len)), nbirths: [], socket };
          sessions.push(session);
          const all = raw;
          raw = undefined;
          parser.parse(all);
        }
        return;
      }
      parser.parse(d);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sessions,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const bdSeqOf = (payload: Buffer): string | undefined => {
  const metrics = decodeIndependently(payload).metrics ?? [];
  return metrics.find((m) => m.name === 'bdSeq')?.longValue as string | undefined;
};

describe.each([4, 5] as const)('edge node upstream CONNECT on the wire, MQTT protocol level %i', (level) => {
  it('Clean Start, no lasting session, and the NDEATH Will whose bdSeq the next NBIRTH carries, on every (re)connect', async () => {
    const broker = await startCapturingBroker();
    cleanups.push(() => broker.close());
    const gw = await startGateway({ url: broker.url, protocolVersion: level });
    cleanups.push(gw.stop);

    await until(() => (broker.sessions[0]?.nbirths.length ?? 0) > 0, 10_000, 'the first NBIRTH');
    // A dropped connection must come back the same way: clean, and with the next bdSeq in its Will.
    broker.sessions[0]!.socket.destroy();
    await until(() => (broker.sessions[1]?.nbirths.length ?? 0) > 0, 10_000, 'the NBIRTH after reconnecting');

    const seen: string[] = [];
    for (const s of broker.sessions.slice(0, 2)) {
      const c = s.connect;
      expect(c.protocolName).toBe('MQTT');
      expect(c.level).toBe(level);
      expect(c.cleanStart, 'Clean Session / Clean Start flag').toBe(true);
      if (level === 5) {
        // Absent means 0 (MQTT 5 section 3.1.2.11.2); either way the broker must not keep the session.
        const expiry = c.properties.get(0x11);
        expect(expiry === undefined ? 0 : expiry[0]!.readUInt32BE(0), 'Session Expiry Interval').toBe(0);
        expect(expiry?.length ?? 0).toBeLessThanOrEqual(1);
      }
      expect(c.will, 'Will present').toBeDefined();
      const will = c.will!;
      expect(will.topic).toBe('spBv1.0/plant/NDEATH/edge-1');
      expect(will.qos).toBe(1);
      expect(will.retain).toBe(false);
      const willMetrics = decodeIndependently(will.payload).metrics ?? [];
      expect(willMetrics.map((m) => m.name)).toEqual(['bdSeq']);
      const willBdSeq = bdSeqOf(will.payload);
      expect(willBdSeq).toBeDefined();
      expect(bdSeqOf(s.nbirths[0]!), 'NBIRTH bdSeq equals the Will bdSeq of its CONNECT').toBe(willBdSeq);
      seen.push(willBdSeq!);
    }
    // Each new session announces a new death certificate number.
    expect(seen[1]).not.toBe(seen[0]);
  });
});
