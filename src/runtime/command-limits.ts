// Commands and Rebirth requests are bounded per source (issue 19): 4,840 NCMD produced 14,520
// births, and a 35 s flood of 10,000 DCMD/s stalled the event loop for 19 s. Each source (the
// upstream session, the local Sparkplug stream, each local client on the JSON command topics)
// gets a token bucket; a command over it is refused with a reason before it is parsed, counted,
// and logged at most once per LOG_EVERY_MS with how many were refused. A Rebirth within
// REBIRTH_EVERY_MS of the last births is not done at once: one deferred Rebirth runs when the
// hold-off ends, so the host still gets births after its latest request, just not one per NCMD.
import type { Logger } from '../observe/logger.js';
import type { Clock, TimerHandle } from '../shared/clock.js';

/** Sustained command messages per second per source; a burst of COMMAND_BURST passes at once. */
export const COMMANDS_PER_SECOND = 50;
export const COMMAND_BURST = 100;
/** Births at most this often on request. */
export const REBIRTH_EVERY_MS = 2_000;
const LOG_EVERY_MS = 10_000;

export const RATE_LIMIT_REASON = `rate limit: more than ${COMMANDS_PER_SECOND} commands/s (burst ${COMMAND_BURST}) from this source`;

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.perSecond) / 1000);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export interface CommandLimitsOptions {
  clock: Clock;
  log: Logger;
  perSecond?: number;
  burst?: number;
  rebirthEveryMs?: number;
  /** Most sources kept (local clients come and go); the oldest is forgotten beyond it. */
  maxSources?: number;
}

export class CommandLimits {
  private readonly buckets = new Map<string, TokenBucket>();
  private lastRebirth = -Infinity;
  private deferred: TimerHandle | undefined;
  private lastLog = -Infinity;
  private refusedSinceLog = 0;
  /** Command messages refused over the rate, since start. */
  commandsRefused = 0;
  /** Rebirth requests folded into a later one, since start. */
  rebirthsDeferred = 0;

  constructor(private readonly options: CommandLimitsOptions) {}

  /** false: refuse this command message (counted; the caller says why to whoever can hear). */
  admit(source: string): boolean {
    let bucket = this.buckets.get(source);
    if (bucket === undefined) {
      if (this.buckets.size >= (this.options.maxSources ?? 1000)) this.buckets.delete(this.buckets.keys().next().value as string);
      bucket = new TokenBucket(this.options.perSecond ?? COMMANDS_PER_SECOND, this.options.burst ?? COMMAND_BURST, () => this.options.clock.monotonic());
      this.buckets.set(source, bucket);
    }
    if (bucket.take()) return true;
    this.commandsRefused += 1;
    this.refusedSinceLog += 1;
    const now = this.options.clock.monotonic();
    if (now - this.lastLog >= LOG_EVERY_MS) {
      this.options.log.warn({ code: 'FG_ERR_WRITE_REJECTED', source, refused: this.refusedSinceLog, total: this.commandsRefused }, `commands refused: ${RATE_LIMIT_REASON}`);
      this.lastLog = now;
      this.refusedSinceLog = 0;
    }
    return false;
  }

  /**
   * true: do the births now. false: a Rebirth already ran within the hold-off; `later` runs
   * once when it ends (one deferred Rebirth for any number of requests).
   */
  rebirth(later: () => void): boolean {
    const now = this.options.clock.monotonic();
    const every = this.options.rebirthEveryMs ?? REBIRTH_EVERY_MS;
    if (now - this.lastRebirth >= every && this.deferred === undefined) {
      this.lastRebirth = now;
      return true;
    }
    this.rebirthsDeferred += 1;
    if (this.deferred === undefined) {
      this.deferred = this.options.clock.setTimeout(() => {
        this.deferred = undefined;
        this.lastRebirth = this.options.clock.monotonic();
        later();
      }, Math.max(0, this.lastRebirth + every - now));
    }
    return false;
  }

  /** The session ended: a deferred Rebirth has nothing to rebirth. */
  cancel(): void {
    if (this.deferred !== undefined) this.options.clock.clearTimeout(this.deferred);
    this.deferred = undefined;
  }
}
