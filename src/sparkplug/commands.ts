// NCMD and DCMD (spec 4.2.1.4, 4.2.2.4): what a host asks of the edge node. A rebirth request
// is `Node Control/Rebirth` = true, by name [tck-id-operational-behavior-data-commands-ncmd-rebirth-name]
// [tck-id-operational-behavior-data-commands-ncmd-rebirth-value]; writes name metrics by alias
// or by name. `parseCommand` turns a payload into actions, each with its own verdict;
// `Commands` carries them out for the edge node (issue 16: the edge node's session and its
// commands are two jobs): bounded per source, journalled, counted for the node metrics.
import { errorMessage } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import { CommandLimits } from '../runtime/command-limits.js';
import type { TagValue } from '../runtime/types.js';
import type { Clock } from '../shared/clock.js';
import { DataType } from './datatypes.js';
import type { MetricIndex } from './metric-index.js';
import { REBIRTH_METRIC } from './nbirth.js';
import { decodePayload, type DecodedMetric, type SpValue } from './payload.js';

export type CommandAction =
  | { kind: 'rebirth' }
  | { kind: 'write'; device: string; metric: string; value: SpValue }
  | { kind: 'refused'; device: string | undefined; metric: string; reason: string };

function label(m: DecodedMetric): string {
  return m.name ?? (m.alias !== undefined ? `alias ${m.alias}` : '(unnamed)');
}

export function parseCommand(payload: Buffer, device: string | undefined, index: MetricIndex): CommandAction[] {
  const decoded = decodePayload(payload);
  const actions: CommandAction[] = [];
  for (const m of decoded.metrics) {
    if (device === undefined && m.name === REBIRTH_METRIC) {
      if (m.value(DataType.Boolean) === true) actions.push({ kind: 'rebirth' });
      else actions.push({ kind: 'refused', device, metric: REBIRTH_METRIC, reason: 'a rebirth request must be true' });
      continue;
    }
    const target = m.alias !== undefined ? index.byAliasOf(m.alias) : m.name !== undefined ? index.get(device, m.name) : undefined;
    if (target === undefined || target.device !== device) {
      actions.push({ kind: 'refused', device, metric: label(m), reason: `no such metric on ${device ?? 'the edge node'}` });
      continue;
    }
    if (target.device === undefined) {
      actions.push({ kind: 'refused', device, metric: target.def.name, reason: 'edge node metrics are read-only' });
      continue;
    }
    if (!target.def.writable) {
      actions.push({ kind: 'refused', device, metric: target.def.name, reason: 'metric is not writable' });
      continue;
    }
    let value: SpValue | null | undefined;
    try {
      value = m.value(target.def.type);
    } catch {
      value = undefined; // a malformed array body: reported below like a missing value
    }
    if (value === undefined || value === null) {
      actions.push({ kind: 'refused', device, metric: target.def.name, reason: `no value of the metric's datatype (${target.def.type})` });
      continue;
    }
    // Int8/Int16 travel in the 32-bit int_value as two's complement (spec 6.4.16); narrowing
    // it silently wrapped 70000 to 4464 (issue 19). A value that only fits by wrapping is refused.
    const narrow = target.def.type === DataType.Int8 ? 'Int8' : target.def.type === DataType.Int16 ? 'Int16' : undefined;
    if (narrow !== undefined && value !== m.value(DataType.Int32)) {
      actions.push({ kind: 'refused', device, metric: target.def.name, reason: `value ${String(m.value(DataType.Int32))} does not fit ${narrow}` });
      continue;
    }
    actions.push({ kind: 'write', device: target.device, metric: target.def.name, value });
  }
  return actions;
}

export interface CommandJournal {
  received(entry: { source: string; device: string | undefined; metric: string; value: string; receivedAt: number }): number;
  completed(id: number, result: 'ok' | 'refused' | 'failed', error: string | undefined, at: number): void;
}

export interface CommandsOptions {
  index: MetricIndex;
  journal?: CommandJournal | undefined;
  /** Writes an engineering value to a device tag (the runtime's write). */
  write: (device: string, tag: string, value: TagValue) => Promise<void>;
  clock: Clock;
  log: Logger;
  /** Publishes the births again, same bdSeq (the edge node's session). */
  rebirth: () => void;
  /** A write finished, either way: the command counters in the node metrics changed. */
  settled: () => void;
}

export class Commands {
  private received = 0;
  private failed = 0;
  private lastResult = 'none';
  /** Issue 19: commands and Rebirths bounded per source (this session's host). */
  private readonly limits: CommandLimits;

  constructor(private readonly options: CommandsOptions) {
    this.limits = new CommandLimits({ clock: options.clock, log: options.log });
  }

  /** Asked before parsing: a flood costs a counter per message, not a decode and a write. */
  admit(): boolean {
    return this.limits.admit('sparkplug');
  }

  /** The session ended: a deferred Rebirth has nobody to go to. */
  cancel(): void {
    this.limits.cancel();
  }

  handle(payload: Buffer, device: string | undefined, source: 'NCMD' | 'DCMD'): void {
    const { log, clock } = this.options;
    let actions;
    try {
      actions = parseCommand(payload, device, this.options.index);
    } catch (e) {
      log.warn({ source, device, err: errorMessage(e) }, 'malformed command payload ignored');
      return;
    }
    for (const a of actions) {
      const now = clock.now();
      if (a.kind === 'rebirth') {
        // One deferred Rebirth for any number of requests within the hold-off (issue 19).
        if (!this.limits.rebirth(() => this.options.rebirth())) continue;
        log.info('rebirth requested');
        this.journal(source, undefined, 'Node Control/Rebirth', 'true', 'ok', undefined, now);
        // [tck-id-operational-behavior-data-commands-rebirth-action-1..3]: DATA stops at once,
        // births follow with the same bdSeq.
        this.options.rebirth();
        continue;
      }
      this.received += 1;
      if (a.kind === 'refused') {
        this.failed += 1;
        this.lastResult = `refused ${a.device ?? 'node'}/${a.metric}: ${a.reason}`;
        log.warn({ source, device: a.device, metric: a.metric, reason: a.reason }, 'command refused');
        this.journal(source, a.device, a.metric, '', 'refused', a.reason, now);
        continue;
      }
      const entry = this.options.journal?.received({ source, device: a.device, metric: a.metric, value: printable(a.value), receivedAt: now });
      this.options.write(a.device, a.metric, a.value as TagValue).then(
        () => {
          this.lastResult = `ok ${a.device}/${a.metric}`;
          if (entry !== undefined) this.options.journal?.completed(entry, 'ok', undefined, clock.now());
          log.info({ device: a.device, metric: a.metric }, 'command written');
          this.options.settled();
        },
        (e: unknown) => {
          this.failed += 1;
          this.lastResult = `failed ${a.device}/${a.metric}: ${errorMessage(e)}`;
          if (entry !== undefined) this.options.journal?.completed(entry, 'failed', errorMessage(e), clock.now());
          log.warn({ device: a.device, metric: a.metric, err: errorMessage(e) }, 'command failed');
          this.options.settled();
        },
      );
    }
  }

  private journal(source: string, device: string | undefined, metric: string, value: string, result: 'ok' | 'refused', error: string | undefined, at: number): void {
    const j = this.options.journal;
    if (j === undefined) return;
    const id = j.received({ source, device, metric, value, receivedAt: at });
    j.completed(id, result, error, at);
  }

  /** Command counters for the node metrics. */
  stats(): { received: number; failed: number; last: string; rateLimited: number; rebirthsDeferred: number } {
    return {
      received: this.received,
      failed: this.failed,
      last: this.lastResult,
      rateLimited: this.limits.commandsRefused,
      rebirthsDeferred: this.limits.rebirthsDeferred,
    };
  }
}

function printable(v: SpValue): string {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (Array.isArray(v)) return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
  return String(v);
}
