// An RTU slave behind a TCP socket that behaves like a real RS-485 wire at a given baud rate:
// each frame takes its wire time (bytes × bits per character / baud) to arrive and to answer.
// A pty or loopback socket has no baud rate, so this is how line timing is tested and
// measured (the rtu line test and bench/modbus.mjs). It also checks what a bus needs: no
// request while a response is still on the wire, and the 3.5-character silence before each
// request. Written from the spec (Modbus over Serial Line v1.02), independent of modbus-serial.
import net from 'node:net';

export function crc16(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const b of bytes) {
    crc ^= b;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

function withCrc(body: number[]): Buffer {
  const b = Buffer.alloc(body.length + 2);
  body.forEach((v, i) => (b[i] = v));
  b.writeUInt16LE(crc16(b.subarray(0, body.length)), body.length);
  return b;
}

export interface WireStats {
  requests: number;
  /** Sum of the wire time of every request and response frame, ms. */
  wireMs: number;
  /** Requests that arrived while a response was still being sent. */
  collisions: number;
  /** Requests that arrived less than 3.5 character times after the previous response. */
  silenceViolations: number;
  /** Shortest gap seen between a response's end and the next request, ms. */
  minGapMs: number;
  crcErrors: number;
}

export class RtuWireServer {
  readonly holding = new Uint16Array(65536);
  /** Unit ids that answer; others stay silent like an absent slave. */
  readonly units = new Set<number>([1]);
  /** Answer with a damaged CRC (line noise) this many times. */
  corruptNext = 0;
  readonly stats: WireStats = { requests: 0, wireMs: 0, collisions: 0, silenceViolations: 0, minGapMs: Infinity, crcErrors: 0 };
  port = 0;
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private busyUntil = 0;
  private lastResponseEnd = -Infinity;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(readonly baudRate: number, readonly bitsPerChar = 10) {}

  wireMs(bytes: number): number {
    return (bytes * this.bitsPerChar * 1000) / this.baudRate;
  }

  get silenceMs(): number {
    return this.baudRate > 19_200 ? 1.75 : (3.5 * this.bitsPerChar * 1000) / this.baudRate;
  }

  async start(): Promise<void> {
    const server = net.createServer((socket) => this.serve(socket));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.port = (server.address() as net.AddressInfo).port;
  }

  private later(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private serve(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      // Requests this server understands: FC3/FC4 reads (8 bytes) and FC6 writes (8 bytes).
      while (buf.length >= 8) {
        const frame = buf.subarray(0, 8);
        buf = buf.subarray(8);
        this.onRequest(socket, Buffer.from(frame));
      }
    });
  }

  private onRequest(socket: net.Socket, frame: Buffer): void {
    const now = performance.now();
    this.stats.requests++;
    if (now < this.busyUntil) this.stats.collisions++;
    const gap = now - this.lastResponseEnd;
    if (Number.isFinite(gap)) {
      this.stats.minGapMs = Math.min(this.stats.minGapMs, gap);
      // Timers fire on whole milliseconds: allow 0.5 ms of measurement slack.
      if (gap < this.silenceMs - 0.5) this.stats.silenceViolations++;
    }
    if (frame.readUInt16LE(6) !== crc16(frame.subarray(0, 6))) {
      this.stats.crcErrors++;
      return;
    }
    const unit = frame[0] ?? 0;
    const fc = frame[1] ?? 0;
    const address = frame.readUInt16BE(2);
    const value = frame.readUInt16BE(4);
    const requestWire = this.wireMs(frame.length);
    this.stats.wireMs += requestWire;
    if (!this.units.has(unit)) {
      this.busyUntil = now + requestWire;
      return; // an absent slave: the request goes by on the wire and nobody answers
    }
    let response: Buffer;
    if (fc === 3 || fc === 4) {
      const body = [unit, fc, value * 2];
      for (let i = 0; i < value; i++) {
        const r = this.holding[address + i] ?? 0;
        body.push(r >> 8, r & 0xff);
      }
      response = withCrc(body);
    } else if (fc === 6) {
      this.holding[address] = value;
      response = Buffer.from(frame);
    } else {
      response = withCrc([unit, fc | 0x80, 1]);
    }
    if (this.corruptNext > 0) {
      this.corruptNext--;
      response[response.length - 1] = (response[response.length - 1] ?? 0) ^ 0xff;
    }
    const responseWire = this.wireMs(response.length);
    this.stats.wireMs += responseWire;
    // The request finishes arriving after its wire time; the answer then takes its own.
    const done = now + requestWire + responseWire;
    this.busyUntil = done;
    this.later(() => {
      this.lastResponseEnd = performance.now();
      if (!socket.destroyed) socket.write(response);
    }, done - now);
  }

  resetStats(): void {
    Object.assign(this.stats, { requests: 0, wireMs: 0, collisions: 0, silenceViolations: 0, minGapMs: Infinity, crcErrors: 0 });
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await new Promise<void>((r) => server.close(() => r()));
  }
}
