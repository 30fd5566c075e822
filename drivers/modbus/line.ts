// A line is one conversation channel: a TCP socket or a serial port. Every device configured on
// the same endpoint (several unit ids behind one gateway, several slaves on one RS-485 bus)
// shares one line and one queue, because Modbus RTU is half-duplex master/slave: two requests
// in flight on one bus collide, and most TCP-to-RTU gateways serve one request at a time.
import net from 'node:net';
import type modbusSerial from 'modbus-serial';
import type { Logger } from '../../src/observe/logger.js';
import { ModbusRequestError, classify } from './request-error.js';
import type { ModbusConnection } from './schema.js';

// modbus-serial is CommonJS: under NodeNext the default import is `module.exports`, which the
// package also exposes as `.default` (its typings only describe that one).
export type ModbusClient = InstanceType<typeof modbusSerial.default>;

/**
 * modbus-serial (and the serialport stack under it, ~4 MiB RSS) loads with the first line a
 * site opens, not with the driver list every site imports (issue 15).
 */
let modbusRtu: Promise<typeof modbusSerial.default> | undefined;
function loadModbusRtu(): Promise<typeof modbusSerial.default> {
  modbusRtu ??= import('modbus-serial').then((m) => m.default.default);
  return modbusRtu;
}

/** Queued requests per line before new ones are refused; a poll is a handful of requests. */
export const MAX_QUEUED_PER_LINE = 1000;

export function lineKey(c: ModbusConnection): string {
  return c.transport === 'rtu' ? `rtu:${c.path ?? ''}` : `${c.transport}://${c.host ?? ''}:${c.port}`;
}

/**
 * Modbus over Serial Line v1.02 §2.5.1.1: frames are separated by at least 3.5 character
 * times of silence; above 19,200 baud a fixed 1.75 ms is recommended. A character is a start
 * bit, the data bits, the parity bit if any, and the stop bits.
 */
export function interFrameDelayMs(c: Pick<ModbusConnection, 'baudRate' | 'dataBits' | 'parity' | 'stopBits'>): number {
  if (c.baudRate > 19_200) return 1.75;
  const bitsPerChar = 1 + c.dataBits + (c.parity === 'none' ? 0 : 1) + c.stopBits;
  return (3.5 * bitsPerChar * 1000) / c.baudRate;
}

export interface RunOptions {
  unitId: number;
  timeoutMs: number;
  signal: AbortSignal;
  /** Called when the frame goes on the wire (not while it waits in the queue). */
  onSent?: () => void;
}

export class ModbusLine {
  users = 0;
  private client: ModbusClient | undefined;
  private socket: net.Socket | undefined;
  private opening: Promise<ModbusClient> | undefined;
  private tail: Promise<void> = Promise.resolve();
  private queued = 0;
  private lastFrameEnd = -Infinity;
  private closed = false;
  private failInFlight: ((e: unknown) => void) | undefined;
  private readonly silenceMs: number;

  constructor(
    readonly key: string,
    private readonly connection: ModbusConnection,
    private readonly logger: Logger,
  ) {
    this.silenceMs =
      connection.transport === 'tcp' ? 0 : (connection.interFrameDelay ?? interFrameDelayMs(connection));
  }

  get isOpen(): boolean {
    return this.client?.isOpen === true;
  }

  get queueDepth(): number {
    return this.queued;
  }

  /** Open the line now (start() calls this so a wrong port shows up at once). */
  async open(timeoutMs: number): Promise<void> {
    await this.ensureOpen(timeoutMs);
  }

  /**
   * Run one request when the line is free. The caller's promise settles early on abort, but
   * the line stays busy until the request really ends (its own timeout bounds it): sending the
   * next frame while a late answer is still on the wire would corrupt both.
   */
  run<T>(what: string, fn: (client: ModbusClient) => Promise<T>, o: RunOptions): Promise<T> {
    if (this.closed) return Promise.reject(new ModbusRequestError('connection', `${what}: line ${this.key} is closed`));
    if (this.queued >= MAX_QUEUED_PER_LINE) {
      return Promise.reject(new ModbusRequestError('connection', `${what}: ${this.queued} requests already queued on ${this.key}`));
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(new ModbusRequestError('aborted', `${what}: the device timeout expired`));
      o.signal.addEventListener('abort', onAbort, { once: true });
      this.queued++;
      const exec = async (): Promise<void> => {
        if (o.signal.aborted || this.closed) {
          reject(new ModbusRequestError(this.closed ? 'connection' : 'aborted', `${what}: not sent`));
          return;
        }
        try {
          const client = await this.ensureOpen(o.timeoutMs);
          await this.waitForSilence();
          client.setID(o.unitId);
          client.setTimeout(o.timeoutMs);
          const answer = fn(client);
          o.onSent?.();
          resolve(await Promise.race([answer, this.whenLinkLost()]));
        } catch (e) {
          const err = classify(e, what);
          // After a timeout or a garbled frame the socket's byte stream may be out of step (a
          // late answer, a bogus MBAP length the library would wait on forever): start the next
          // request on a fresh connection. A serial port has no such state to reset.
          if ((err.kind === 'timeout' || err.kind === 'crc') && this.connection.transport !== 'rtu') {
            this.logger.debug({ line: this.key, kind: err.kind }, 'dropping the connection to resynchronise');
            await this.dropClient();
          }
          reject(err);
        } finally {
          this.failInFlight = undefined;
          this.lastFrameEnd = performance.now();
        }
      };
      this.tail = this.tail.then(exec).finally(() => {
        this.queued--;
        o.signal.removeEventListener('abort', onAbort);
      });
    });
  }

  /**
   * modbus-serial leaves a request pending until its own timeout when the link drops; settle
   * it at once instead, so a dead line frees its queue and stop() waits for nothing.
   */
  private whenLinkLost(): Promise<never> {
    return new Promise<never>((_, reject) => {
      this.failInFlight = reject;
    });
  }

  private linkLost(reason: string): void {
    const fail = this.failInFlight;
    this.failInFlight = undefined;
    const client = this.client as (ModbusClient & { _cancelPendingTransactions?: () => void }) | undefined;
    // Clears the library's per-request timers; the request itself is settled by `fail`.
    client?._cancelPendingTransactions?.();
    fail?.(new ModbusRequestError('connection', `${this.key}: ${reason}`));
  }

  private async waitForSilence(): Promise<void> {
    if (this.silenceMs <= 0) return;
    const wait = this.lastFrameEnd + this.silenceMs - performance.now();
    if (wait > 0) await new Promise<void>((r) => setTimeout(r, Math.ceil(wait)));
  }

  private ensureOpen(timeoutMs: number): Promise<ModbusClient> {
    if (this.client?.isOpen === true) return Promise.resolve(this.client);
    this.opening ??= this.connect(timeoutMs).finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private async connect(timeoutMs: number): Promise<ModbusClient> {
    await this.dropClient();
    if (this.closed) throw new ModbusRequestError('connection', `line ${this.key} is closed`);
    const ModbusRTU = await loadModbusRtu();
    const client = new ModbusRTU();
    const c = this.connection;
    if (c.transport === 'rtu') {
      try {
        await client.connectRTUBuffered(c.path ?? '', {
          baudRate: c.baudRate, dataBits: c.dataBits, parity: c.parity, stopBits: c.stopBits,
        });
      } catch (e) {
        throw classify(e, `open ${c.path ?? ''}`);
      }
    } else {
      const socket = await connectSocket(c.host ?? '', c.port, timeoutMs);
      this.socket = socket;
      socket.once('close', () => {
        if (this.socket !== socket) return;
        this.logger.warn({ line: this.key }, 'modbus connection closed by the peer');
        this.linkLost('connection closed by the peer');
      });
      // modbus-serial's "TcpRTUBuffered" port still speaks MBAP framing; its "Telnet" port is
      // the one that sends bare RTU frames (address, PDU, CRC) over a socket, which is what a
      // transparent serial server expects (found by the socat interop test).
      if (c.transport === 'tcp') await client.linkTCP(socket, { port: c.port });
      else await client.linkTelnet(socket, { port: c.port });
    }
    // modbus-serial emits 'error' on the client for port trouble; unhandled it would crash.
    client.on('error', (e: unknown) => this.logger.warn({ line: this.key, err: String(e) }, 'modbus line error'));
    client.on('close', () => {
      if (this.client === client) this.linkLost('port closed');
    });
    if (this.closed) {
      this.client = client;
      await this.dropClient();
      throw new ModbusRequestError('connection', `line ${this.key} closed while opening`);
    }
    this.client = client;
    this.logger.info({ line: this.key }, 'modbus line open');
    return client;
  }

  /** Drop the client; a serial port is awaited closed, so that reopening it cannot find it busy. */
  private async dropClient(): Promise<void> {
    this.linkLost('line closed');
    const client = this.client;
    this.client = undefined;
    if (this.socket !== undefined) {
      this.socket.destroy();
      this.socket = undefined;
    }
    if (client !== undefined && this.connection.transport === 'rtu' && client.isOpen) {
      await new Promise<void>((resolve) => client.close(() => resolve()));
    }
  }

  /** Close the line; queued requests are refused, the one on the wire ends by its timeout. */
  async close(): Promise<void> {
    this.closed = true;
    await this.opening?.catch(() => undefined);
    await this.dropClient();
    await this.tail;
  }
}

function connectSocket(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ModbusRequestError('connection', `connect ${host}:${port}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      // One small request, one small answer: Nagle would hold each frame back for an ACK.
      // (modbus-serial sets this only on sockets it connects itself.)
      socket.setNoDelay(true);
      socket.removeAllListeners('error');
      // Errors after connect surface through modbus-serial as a closed port; keep one
      // listener so a reset never becomes an unhandled 'error' event.
      socket.on('error', () => undefined);
      resolve(socket);
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new ModbusRequestError('connection', `connect ${host}:${port}: ${e.message}`, undefined, { cause: e }));
    });
  });
}

/**
 * Lines by endpoint, counted by users. One registry per driver factory: a serial port can be
 * opened once per process, so every device naming the same path must reach the same line.
 */
export class LineRegistry {
  private readonly lines = new Map<string, ModbusLine>();

  acquire(connection: ModbusConnection, logger: Logger): ModbusLine {
    const key = lineKey(connection);
    let line = this.lines.get(key);
    if (line === undefined) {
      line = new ModbusLine(key, connection, logger);
      this.lines.set(key, line);
    }
    line.users++;
    return line;
  }

  async release(line: ModbusLine): Promise<void> {
    line.users--;
    if (line.users > 0) return;
    if (this.lines.get(line.key) === line) this.lines.delete(line.key);
    await line.close();
  }

  get size(): number {
    return this.lines.size;
  }
}
