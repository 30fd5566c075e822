// Raw WebSocket bytes for hardening tests: a hand-made handshake and client frames, so a test
// can send exactly what a hostile client would (RFC 6455 edge cases, fuzzed frames).
import { randomBytes } from 'node:crypto';
import net from 'node:net';

/** A client frame (RFC 6455 §5.2), masked unless told otherwise; any opcode, FIN and length. */
export function clientFrame(opcode: number, payload: Buffer, opts: { mask?: boolean; fin?: boolean; rsv?: number } = {}): Buffer {
  const mask = opts.mask ?? true;
  const fin = opts.fin ?? true;
  const key = randomBytes(4);
  const body = Buffer.from(payload);
  if (mask) for (let i = 0; i < body.length; i++) body[i] = (body[i] as number) ^ (key[i & 3] as number);
  const m = mask ? 0x80 : 0;
  let len: Buffer;
  if (body.length < 126) len = Buffer.from([body.length | m]);
  else if (body.length < 65_536) len = Buffer.from([126 | m, body.length >> 8, body.length & 0xff]);
  else {
    len = Buffer.alloc(9);
    len[0] = 127 | m;
    len.writeUInt32BE(body.length, 5);
  }
  return Buffer.concat([Buffer.from([(fin ? 0x80 : 0) | ((opts.rsv ?? 0) << 4) | opcode]), len, mask ? key : Buffer.alloc(0), body]);
}

export function upgradeRequest(opts: { path?: string; protocol?: string; key?: string; origin?: string; host?: string } = {}): string {
  return (
    `GET ${opts.path ?? '/mqtt'} HTTP/1.1\r\nHost: ${opts.host ?? 'x'}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${opts.key ?? 'dGhlIHNhbXBsZSBub25jZQ=='}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ${opts.protocol ?? 'mqtt'}\r\n` +
    (opts.origin !== undefined ? `Origin: ${opts.origin}\r\n` : '') +
    '\r\n'
  );
}

export interface RawWs {
  s: net.Socket;
  response: string;
  /** Bytes after the HTTP response, as they arrive. */
  rest: Buffer[];
  closed: Promise<void>;
}

export async function wsHandshake(port: number, opts: Parameters<typeof upgradeRequest>[0] & { head?: Buffer; address?: string } = {}): Promise<RawWs> {
  const s = net.connect({ port, host: '127.0.0.1', ...(opts.address !== undefined ? { localAddress: opts.address } : {}) });
  s.on('error', () => undefined);
  const closed = new Promise<void>((r) => s.once('close', () => r()));
  await new Promise((r) => s.once('connect', r));
  s.write(opts.head === undefined ? upgradeRequest(opts) : Buffer.concat([Buffer.from(upgradeRequest(opts)), opts.head]));
  const rest: Buffer[] = [];
  const response = await new Promise<string>((resolve) => {
    let acc = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      acc = Buffer.concat([acc, d]);
      const end = acc.indexOf('\r\n\r\n');
      if (end >= 0) {
        s.off('data', onData);
        if (acc.length > end + 4) rest.push(acc.subarray(end + 4));
        s.on('data', (more: Buffer) => rest.push(more));
        resolve(acc.subarray(0, end).toString());
      }
    };
    s.on('data', onData);
    s.once('close', () => resolve(acc.toString()));
  });
  return { s, response, rest, closed };
}

/** The status code of the first server close frame in `bytes`, or undefined. */
export function closeCode(bytes: Buffer): number | undefined {
  let i = 0;
  while (i + 2 <= bytes.length) {
    const op = (bytes[i] as number) & 0x0f;
    let len = (bytes[i + 1] as number) & 0x7f;
    let off = i + 2;
    if (len === 126) { len = bytes.readUInt16BE(i + 2); off += 2; }
    else if (len === 127) { len = bytes.readUInt32BE(i + 6); off += 8; }
    if (op === 0x8) return len >= 2 ? bytes.readUInt16BE(off) : 1005;
    i = off + len;
  }
  return undefined;
}
