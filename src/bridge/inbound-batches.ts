// Command handling never holds the event loop for long (issue 19: a 35 s DCMD flood stalled it
// for 19 s, the systemd watchdog went unpinged). mqtt.js parses whatever the socket delivered
// and emits every message of it in one go; libuv reads up to 32 chunks per wake-up. After
// BATCH messages in one turn of the event loop the upstream socket is paused, and resumed on
// the next turn: timers (the watchdog ping, PUBACK commits, polls) run between batches. A
// paused socket loses nothing: TCP holds the rest.
const BATCH = 500;

interface Pausable {
  pause(): unknown;
  resume(): unknown;
}

export class InboundBatches {
  private count = 0;
  private turn: ReturnType<typeof setImmediate> | undefined;
  private paused: Pausable | undefined;

  constructor(private readonly batch = BATCH) {}

  /** One message arrived on `stream`. */
  seen(stream: Pausable | undefined): void {
    this.count += 1;
    this.turn ??= setImmediate(() => this.nextTurn());
    if (this.count === this.batch && stream !== undefined && this.paused === undefined) {
      this.paused = stream;
      stream.pause();
    }
  }

  stop(): void {
    if (this.turn !== undefined) clearImmediate(this.turn);
    this.turn = undefined;
    this.count = 0;
    this.paused = undefined;
  }

  private nextTurn(): void {
    this.turn = undefined;
    this.count = 0;
    const s = this.paused;
    this.paused = undefined;
    s?.resume();
  }
}
