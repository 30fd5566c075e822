// One serial-line device: owns the port, the framer and the parser. In listen mode frames are
// published as they arrive and a lost port is reopened here with backoff (the supervisor only
// reconnects polling drivers itself); in poll mode each poll sends the request and waits for
// one reply, and a lost port makes polls fail so the supervisor takes the device offline.
import { stat } from 'node:fs/promises';
import type { SerialPort } from 'serialport';
import type { Driver, DriverContext } from '../../src/runtime/driver.js';
import type { TimerHandle } from '../../src/shared/clock.js';
import type { Reading } from '../../src/runtime/types.js';
import { FieldgateError, errorMessage } from '../../src/errors.js';
import { Framer, type DiscardReason } from './framing.js';
import { FrameParser, preview, type SerialTagExtra } from './parse.js';
import { ThrottledWarn } from '../../src/shared/throttled-log.js';
import type { Connection } from './schema.js';
import type { Counter } from '../../src/observe/metrics.js';

type Ctx = DriverContext<Connection, SerialTagExtra>;

interface Waiter {
  resolve(frame: string): void;
  reject(e: unknown): void;
}

export class SerialDevice implements Driver {
  readonly poll?: (signal: AbortSignal) => Promise<Reading[]>;
  private port: SerialPort | undefined;
  private framer: Framer | undefined;
  private readonly parser: FrameParser;
  private readonly badFrames: ThrottledWarn;
  private readonly frames: Counter;
  private readonly labels: { device: string };
  private waiter: Waiter | undefined;
  private reopenTimer: TimerHandle | undefined;
  private reopenAttempt = 0;
  private linkTimer: TimerHandle | undefined;
  private stopped = true;

  constructor(private readonly ctx: Ctx) {
    const c = ctx.device.connection;
    this.parser = new FrameParser(c.parse, c.checksum, ctx.device.tags, c.accept);
    this.badFrames = new ThrottledWarn(ctx.logger, ctx.clock);
    this.labels = { device: ctx.device.name };
    this.frames = ctx.metrics.counter('fieldgate_serial_frames_total', 'serial frames by device and result (ok, ignored, parse_error, checksum_error, overlong, partial)');
    if (c.mode === 'poll') this.poll = (signal) => this.request(signal);
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.open();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reopenTimer !== undefined) this.ctx.clock.clearTimeout(this.reopenTimer);
    this.reopenTimer = undefined;
    this.stopLinkCheck();
    this.failWaiter(new FieldgateError('FG_ERR_DEVICE_IO', 'driver stopped'));
    await this.close();
  }

  private async open(): Promise<void> {
    const c = this.ctx.device.connection;
    // serialport loads with the first port a site opens, not with every site (issue 15).
    const { SerialPort } = await import('serialport');
    const port = new SerialPort({
      path: c.path,
      baudRate: c.baudRate,
      dataBits: c.dataBits,
      parity: c.parity,
      stopBits: c.stopBits,
      rtscts: c.rtscts,
      xon: c.xonxoff,
      xoff: c.xonxoff,
      autoOpen: false,
    });
    await new Promise<void>((resolve, reject) =>
      port.open((e) => (e ? reject(new FieldgateError('FG_ERR_DEVICE_IO', `cannot open ${c.path}: ${e.message}`, { cause: e })) : resolve())),
    );
    let identity: { ino: number; rdev: number };
    try {
      identity = await stat(c.path);
    } catch (e) {
      await closePort(port);
      throw new FieldgateError('FG_ERR_DEVICE_IO', `cannot open ${c.path}: ${errorMessage(e)}`, { cause: e });
    }
    if (this.stopped) {
      await closePort(port);
      return;
    }
    const framer = new Framer(
      { rule: c.framing, maxLength: c.framing.maxLength, interByteTimeout: c.framing.interByteTimeout, encoding: c.encoding },
      this.ctx.clock,
      { frame: (f) => this.onFrame(f), discard: (reason, bytes) => this.onDiscard(reason, bytes) },
    );
    port.on('data', (chunk: Buffer) => framer.push(chunk));
    port.on('error', (e: Error) => this.ctx.logger.warn({ err: e.message, path: c.path }, 'serial port error'));
    port.on('close', (e: Error | null) => this.onClose(port, e));
    this.port = port;
    this.framer = framer;
    this.scheduleLinkCheck(port, identity);
    this.ctx.logger.info({ path: c.path, baudRate: c.baudRate, mode: c.mode }, 'serial port open');
  }

  private async close(): Promise<void> {
    this.stopLinkCheck();
    const port = this.port;
    this.port = undefined;
    this.framer?.dispose();
    this.framer = undefined;
    if (port !== undefined) await closePort(port);
  }

  /**
   * The close event alone does not catch every pulled cable: measured on ptys, a hang-up does not
   * always reach serialport's poller, and a dead USB adapter can leave a silent fd behind. So the
   * device node is checked too: gone, or replaced by another device (re-enumerated adapter,
   * restarted socat), means the port is lost.
   */
  private scheduleLinkCheck(port: SerialPort, identity: { ino: number; rdev: number }): void {
    const path = this.ctx.device.connection.path;
    this.linkTimer = this.ctx.clock.setTimeout(() => {
      this.linkTimer = undefined;
      stat(path).then(
        (now) => {
          if (port !== this.port) return;
          if (now.ino === identity.ino && now.rdev === identity.rdev) this.scheduleLinkCheck(port, identity);
          else this.lose(port, new Error('the device node was replaced'));
        },
        (e: unknown) => {
          if (port === this.port) this.lose(port, new Error(`the device node is gone (${(e as NodeJS.ErrnoException).code ?? errorMessage(e)})`));
        },
      );
    }, this.ctx.device.connection.linkCheck);
  }

  private stopLinkCheck(): void {
    if (this.linkTimer !== undefined) this.ctx.clock.clearTimeout(this.linkTimer);
    this.linkTimer = undefined;
  }

  private lose(port: SerialPort, e: Error): void {
    this.onClose(port, e);
    void closePort(port);
  }

  private onClose(port: SerialPort, e: Error | null): void {
    if (port !== this.port) return; // our own close()
    this.stopLinkCheck();
    this.port = undefined;
    this.framer?.dispose();
    this.framer = undefined;
    const path = this.ctx.device.connection.path;
    const why = `serial port ${path} lost: ${e?.message ?? 'closed'}`;
    this.failWaiter(new FieldgateError('FG_ERR_DEVICE_IO', why));
    if (this.stopped) return;
    this.ctx.logger.warn({ path }, 'serial port lost');
    if (this.poll === undefined) {
      this.ctx.reportLink(false, why);
      this.scheduleReopen();
    }
  }

  private scheduleReopen(): void {
    const { initial, max } = this.ctx.device.backoff;
    const delay = Math.min(max, initial * 2 ** this.reopenAttempt);
    this.reopenAttempt += 1;
    this.reopenTimer = this.ctx.clock.setTimeout(() => {
      this.reopenTimer = undefined;
      this.open().then(
        () => {
          if (this.stopped) return;
          this.reopenAttempt = 0;
          this.ctx.reportLink(true);
        },
        (e: unknown) => {
          if (this.stopped) return;
          this.ctx.logger.debug({ err: errorMessage(e), attempt: this.reopenAttempt }, 'serial reopen failed');
          this.scheduleReopen();
        },
      );
    }, delay);
  }

  private async request(signal: AbortSignal): Promise<Reading[]> {
    const { port, framer } = this;
    const c = this.ctx.device.connection;
    if (port === undefined || framer === undefined) throw new FieldgateError('FG_ERR_DEVICE_IO', `serial port ${c.path} is not open`);
    // A late reply to the previous request must not be taken as the answer to this one.
    framer.reset();
    const reply = new Promise<string>((resolve, reject) => {
      this.waiter = { resolve, reject };
      signal.addEventListener('abort', () => this.failWaiter(signal.reason), { once: true });
    });
    // If the write fails, nobody awaits the reply; its later rejection must not go unhandled.
    reply.catch(() => undefined);
    await new Promise<void>((resolve, reject) =>
      port.write(Buffer.from(c.request ?? '', c.encoding), (e) => (e ? reject(new FieldgateError('FG_ERR_DEVICE_IO', `write to ${c.path} failed: ${e.message}`)) : resolve())),
    );
    const text = await reply;
    const r = this.parser.parse(text);
    if (r.ok) {
      // A good polled reply is a good frame too (issue 12: only listen mode counted them).
      this.frames.inc({ ...this.labels, result: 'ok' });
      return r.readings;
    }
    this.countBad(r.reason, r.error, text);
    return this.ctx.device.tags.map((t) => ({ tag: t.name, value: null, quality: 'BAD' as const, error: r.error }));
  }

  private onFrame(frame: Buffer): void {
    const text = frame.toString(this.ctx.device.connection.encoding);
    if (!this.parser.accepts(text)) {
      this.frames.inc({ ...this.labels, result: 'ignored' });
      return;
    }
    if (this.poll !== undefined) {
      const w = this.waiter;
      this.waiter = undefined;
      if (w === undefined) this.frames.inc({ ...this.labels, result: 'ignored' });
      else w.resolve(text);
      return;
    }
    const r = this.parser.parse(text);
    if (!r.ok) {
      this.countBad(r.reason, r.error, text);
      return;
    }
    this.frames.inc({ ...this.labels, result: 'ok' });
    if (r.readings.length > 0) this.ctx.publish(r.readings);
  }

  private countBad(reason: 'checksum' | 'parse', error: string, text: string): void {
    this.frames.inc({ ...this.labels, result: reason === 'checksum' ? 'checksum_error' : 'parse_error' });
    this.badFrames.warn({ err: error, frame: preview(text) }, 'serial frame rejected');
  }

  private onDiscard(reason: DiscardReason, bytes: number): void {
    this.frames.inc({ ...this.labels, result: reason });
    this.badFrames.warn({ reason, bytes, maxLength: this.ctx.device.connection.framing.maxLength }, 'serial bytes discarded');
  }

  private failWaiter(e: unknown): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(e);
  }
}

function closePort(port: SerialPort): Promise<void> {
  if (!port.isOpen) return Promise.resolve();
  // A close error (port already gone) leaves nothing to release: the fd is closed either way.
  return new Promise<void>((resolve) => port.close(() => resolve()));
}
