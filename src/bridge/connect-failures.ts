// Failed connect attempts, counted and logged for the operator: one log line per failed
// attempt (mqtt.js reports some failures twice: a TLS socket's error arrives both from the
// socket and from the stream), and identical ones in a row at most once per interval with a
// count.
import type { Logger } from '../observe/logger.js';
import { LogThrottle } from '../shared/throttled-log.js';

export class ConnectFailures {
  private readonly throttle: LogThrottle;
  private loggedFor = -1;
  private failedAttempts = 0;

  constructor(
    private readonly log: Logger,
    private readonly url: string,
    now: () => number,
    intervalMs: number | undefined,
  ) {
    this.throttle = new LogThrottle({ now, intervalMs: intervalMs ?? 60_000 });
  }

  /** Logs a failed connect attempt: once per attempt, identical ones in a row throttled. */
  failed(attempt: number, err: string, msg: string): void {
    if (this.loggedFor === attempt) return;
    this.loggedFor = attempt;
    this.failedAttempts += 1;
    const line = this.throttle.hit(err);
    if (line === undefined) return;
    const repeats = line.suppressed > 0 ? { suppressed: line.suppressed, intervalMs: this.throttle.intervalMs } : {};
    this.log.warn({ code: 'FG_ERR_UPSTREAM_CONNECT', url: this.url, err, failedAttempts: this.failedAttempts, ...repeats }, msg);
  }

  /** A session is up: the failures since the last one, and how many of them went unlogged. */
  succeeded(): { failedAttempts: number; unlogged: number } {
    const failedAttempts = this.failedAttempts;
    const unlogged = this.throttle.reset();
    this.failedAttempts = 0;
    return { failedAttempts, unlogged };
  }
}
