// Server-sent events for the status page: a full snapshot when a client connects, then one
// `patch` event per tick with the sections that changed. The snapshot is taken at most once
// per tick whatever the number of clients, and only while someone listens.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { systemClock, type Clock, type TimerHandle } from '../shared/clock.js';
import { diffSnapshots, type StatusSnapshot } from './status-model.js';

export interface StatusEventsOptions {
  snapshot: () => StatusSnapshot;
  clock?: Clock;
  /** Changes are sent at most this often (ms). */
  interval?: number;
  /** A comment line after this long without a write keeps proxies and NAT from closing the stream. */
  keepalive?: number;
  /** More clients than this get 503: each one costs a socket and its write buffer. */
  maxClients?: number;
  /** A client that lets this many bytes pile up unread is dropped rather than buffered for. */
  maxBuffered?: number;
}

export const DEFAULT_MAX_SSE_CLIENTS = 16;

export class StatusEvents {
  private readonly clients = new Set<ServerResponse>();
  private readonly clock: Clock;
  private readonly interval: number;
  private readonly keepalive: number;
  private readonly maxClients: number;
  private readonly maxBuffered: number;
  /** What every client has been told so far; patches are relative to it. */
  private baseline: StatusSnapshot | undefined;
  private timer: TimerHandle | undefined;
  private lastWrite = 0;
  private closed = false;

  constructor(private readonly options: StatusEventsOptions) {
    this.clock = options.clock ?? systemClock;
    this.interval = options.interval ?? 1_000;
    this.keepalive = options.keepalive ?? 15_000;
    this.maxClients = options.maxClients ?? DEFAULT_MAX_SSE_CLIENTS;
    this.maxBuffered = options.maxBuffered ?? 256 * 1024;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Takes over the response for GET /events. */
  attach(req: IncomingMessage, res: ServerResponse): void {
    if (this.closed || this.clients.size >= this.maxClients) {
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '10' }).end(`too many status page clients (at most ${this.maxClients})\n`);
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    // A client joining between ticks gets the baseline, at most one interval old; the next
    // patch brings it level with everyone else, so all clients share one patch stream.
    this.baseline ??= this.options.snapshot();
    this.clients.add(res);
    const drop = () => this.detach(res);
    req.once('close', drop);
    res.once('close', drop);
    this.send(res, `retry: 2000\nevent: snapshot\ndata: ${JSON.stringify(this.baseline)}\n\n`);
    this.schedule();
  }

  /** Ends every stream (gateway stop): EventSource clients then retry on their own. */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    for (const res of this.clients) res.end();
    this.clients.clear();
    this.baseline = undefined;
  }

  private detach(res: ServerResponse): void {
    this.clients.delete(res);
    if (this.clients.size > 0) return;
    // Nobody listens: stop snapshotting, and start from a fresh baseline next time.
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.baseline = undefined;
  }

  private schedule(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.tick();
      if (this.clients.size > 0) this.schedule();
    }, this.interval);
  }

  private tick(): void {
    if (this.clients.size === 0 || this.baseline === undefined) return;
    const now = this.options.snapshot();
    const patch = diffSnapshots(this.baseline, now);
    this.baseline = now;
    if (patch !== undefined) this.broadcast(`event: patch\ndata: ${JSON.stringify(patch)}\n\n`);
    else if (this.clock.monotonic() - this.lastWrite >= this.keepalive) this.broadcast(': keepalive\n\n');
  }

  private broadcast(frame: string): void {
    for (const res of [...this.clients]) this.send(res, frame);
  }

  private send(res: ServerResponse, frame: string): void {
    if (res.writableLength > this.maxBuffered) {
      // A stalled reader would otherwise hold a growing buffer in a small box's memory.
      res.destroy();
      this.detach(res);
      return;
    }
    res.write(frame);
    this.lastWrite = this.clock.monotonic();
  }
}
