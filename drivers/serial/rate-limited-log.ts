// A device that sends garbage sends it on every frame: log the first bad frame at once, then
// at most one line per interval carrying how many were suppressed, so journald is not flooded.
import type { Logger } from '../../src/observe/logger.js';
import type { Clock } from '../../src/shared/clock.js';

export class RateLimitedLog {
  private last = Number.NEGATIVE_INFINITY;
  private suppressed = 0;

  constructor(
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly intervalMs = 10_000,
  ) {}

  warn(fields: Record<string, unknown>, message: string): void {
    const now = this.clock.monotonic();
    if (now - this.last < this.intervalMs) {
      this.suppressed += 1;
      return;
    }
    this.logger.warn({ ...fields, ...(this.suppressed > 0 ? { suppressed: this.suppressed } : {}) }, message);
    this.last = now;
    this.suppressed = 0;
  }
}
