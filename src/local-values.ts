// Plain MQTT for tools that do not speak Sparkplug: the current value of every tag as retained
// JSON, and writes by publishing a JSON value to a command topic (the broker's ACL decides who
// may). Results come back on a parallel topic and go to the command journal.
import type { Broker } from './broker/index.js';
import type { LocalConfig } from './config/sections/local.js';
import { CommandLimits, RATE_LIMIT_REASON } from './runtime/command-limits.js';
import { errorMessage } from './errors.js';
import type { Logger } from './observe/logger.js';
import type { Clock } from './shared/clock.js';
import type { Runtime } from './runtime/runtime.js';
import type { TagUpdate, TagValue } from './runtime/types.js';
import type { CommandJournal } from './sparkplug/edge-node.js';

export function jsonValue(v: TagValue | null): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return v;
}

export class LocalValues {
  private unsubscribe: (() => void) | undefined;
  private readonly units = new Map<string, string | undefined>();
  /** Issue 19: per publishing client, refused over the rate with the reason on the result topic. */
  readonly limits: CommandLimits;

  constructor(
    private readonly options: { config: LocalConfig; broker: Broker; runtime: Runtime; journal?: CommandJournal | undefined; clock: Clock; logger: Logger; units: Map<string, string | undefined> },
  ) {
    this.units = options.units;
    this.limits = new CommandLimits({ clock: options.clock, log: options.logger });
    if (options.config.values.enabled) options.runtime.onUpdates((u) => this.publishValues(u));
  }

  start(): void {
    const { commands } = this.options.config;
    if (!commands.enabled) return;
    const prefix = commands.prefix;
    this.unsubscribe = this.options.broker.subscribe(`${prefix}/#`, (m) => this.onCommand(m.topic.slice(prefix.length + 1), m.payload, m.origin), { qos: 1 });
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private publishValues(updates: readonly TagUpdate[]): void {
    const prefix = this.options.config.values.prefix;
    for (const u of updates) {
      const unit = this.units.get(`${u.device}/${u.tag}`);
      const payload = JSON.stringify({ value: jsonValue(u.value), quality: u.quality, timestamp: u.sourceTime, ...(unit !== undefined ? { unit } : {}) });
      try {
        this.options.broker.publish(`${prefix}/${u.device}/${u.tag}`, payload, { qos: 0, retain: true });
      } catch (e) {
        this.options.logger.warn({ device: u.device, tag: u.tag, err: errorMessage(e) }, 'value not published locally');
      }
    }
  }

  private onCommand(path: string, payload: Buffer, origin: string | undefined): void {
    const slash = path.indexOf('/');
    const reply = (result: object): void => {
      this.options.broker.publish(`${this.options.config.commands.prefix}-result/${path}`, JSON.stringify(result), { qos: 1 });
    };
    if (!this.limits.admit(`client:${origin ?? ''}`)) return reply({ ok: false, error: RATE_LIMIT_REASON });
    if (slash <= 0 || slash === path.length - 1) return reply({ ok: false, error: 'topic must be <prefix>/<device>/<tag>' });
    const device = path.slice(0, slash);
    const tag = path.slice(slash + 1);
    let value: unknown;
    try {
      value = JSON.parse(payload.toString('utf8'));
    } catch {
      value = payload.toString('utf8'); // a bare word is a string value
    }
    const now = this.options.clock.now();
    const id = this.options.journal?.received({ source: 'local', device, metric: tag, value: payload.toString('utf8'), receivedAt: now });
    if (typeof value !== 'number' && typeof value !== 'boolean' && typeof value !== 'string') {
      this.options.journal?.completed(id ?? 0, 'refused', 'value must be a JSON number, boolean or string', now);
      return reply({ ok: false, error: 'value must be a JSON number, boolean or string' });
    }
    this.options.runtime.write(device, tag, value).then(
      () => {
        if (id !== undefined) this.options.journal?.completed(id, 'ok', undefined, this.options.clock.now());
        reply({ ok: true });
      },
      (e: unknown) => {
        if (id !== undefined) this.options.journal?.completed(id, 'failed', errorMessage(e), this.options.clock.now());
        this.options.logger.warn({ device, tag, err: errorMessage(e) }, 'local command failed');
        reply({ ok: false, error: errorMessage(e) });
      },
    );
  }
}
