// One tag's reporting state: the last value and quality sent downstream, and when. Turns raw
// readings into TagUpdates by scaling, range checking, deadband and the max-silence heartbeat.
import type { TagConfig } from '../config/sections/devices.js';
import { exceedsDeadband } from './deadband.js';
import { toEngineering } from './scaling.js';
import type { Quality, Reading, TagUpdate, TagValue } from './types.js';

export interface TagCurrent {
  value: TagValue | null;
  quality: Quality;
  sourceTime: number;
  /** Why the quality is not GOOD. */
  reason?: string;
  /** While not GOOD: the last GOOD value and its time (epoch ms). */
  lastGood?: { value: TagValue | null; at: number };
}

export function outOfRangeReason(value: TagValue, tag: Pick<TagConfig, 'range'>): string {
  const r = tag.range;
  return r === undefined ? 'value out of range' : `value ${String(value)} is out of range ${r.min}..${r.max} (check the address, type and byteOrder)`;
}

export class TagState {
  private reported = false;
  private lastValue: TagValue | null = null;
  private lastQuality: Quality = 'BAD';
  private lastReportAt = 0;
  private lastSourceTime = 0;
  /** The latest value seen, reported or not: what a rebirth or status page shows. */
  private currentValue: TagValue | null = null;
  private currentQuality: Quality = 'BAD';
  private currentSourceTime = 0;
  /** Why the current quality is not GOOD (issues 12 and 20: the status page and births say why). */
  private currentReason: string | undefined;
  /** The last GOOD value and when it was read: what an operator compares a BAD tag against. */
  private lastGood: { value: TagValue | null; at: number } | undefined;

  constructor(
    readonly device: string,
    readonly config: TagConfig,
    private readonly maxSilence: number | undefined,
  ) {}

  /** Feed one reading; returns the update to report, or undefined when it is filtered out. */
  accept(reading: Reading, now: number): TagUpdate | undefined {
    const value = reading.value === null ? null : toEngineering(reading.value, this.config);
    let quality = reading.quality;
    let why = quality === 'GOOD' ? undefined : (reading.error ?? (quality === 'BAD' ? 'no reading' : 'flagged uncertain by the device'));
    if (quality === 'GOOD' && value !== null && this.outOfRange(value)) {
      // Outside the engineering range the device is probably miscalibrated or the address is
      // wrong: still report it, flagged, rather than hide it or pass it as good.
      quality = 'UNCERTAIN';
      why = outOfRangeReason(value, this.config);
    }
    const sourceTime = reading.sourceTime ?? now;
    this.currentValue = value;
    this.currentQuality = quality;
    this.currentSourceTime = sourceTime;
    this.currentReason = why;
    if (quality === 'GOOD') this.lastGood = { value, at: sourceTime };

    let reason: TagUpdate['reason'] | undefined;
    if (!this.reported) reason = 'initial';
    else if (quality !== this.lastQuality) reason = 'quality';
    else if (quality !== 'BAD' && exceedsDeadband(this.lastValue, value, this.config)) reason = 'change';
    else if (this.heartbeatDue(now)) reason = 'heartbeat';
    if (reason === undefined) return undefined;
    return this.report(value, quality, sourceTime, now, reason);
  }

  /** For tags that received no reading (subscriptions): the heartbeat repeats the last value. */
  heartbeat(now: number): TagUpdate | undefined {
    if (!this.reported || !this.heartbeatDue(now)) return undefined;
    return this.report(this.lastValue, this.lastQuality, this.lastSourceTime, now, 'heartbeat');
  }

  /** Mark the tag BAD (device did not answer); reported once per transition. */
  fail(now: number, error?: string): TagUpdate | undefined {
    return this.accept({ tag: this.config.name, value: null, quality: 'BAD', ...(error !== undefined ? { error } : {}) }, now);
  }

  /** No reading yet: the snapshot (and so a birth) says why, without reporting an update. */
  explainMissing(reason: string): void {
    if (!this.reported && this.currentValue === null) this.currentReason = reason;
  }

  current(): TagCurrent {
    return {
      value: this.currentValue,
      quality: this.currentQuality,
      sourceTime: this.currentSourceTime,
      ...(this.currentReason !== undefined ? { reason: this.currentReason } : {}),
      ...(this.lastGood !== undefined && this.currentQuality !== 'GOOD' ? { lastGood: this.lastGood } : {}),
    };
  }

  private heartbeatDue(now: number): boolean {
    return this.maxSilence !== undefined && this.maxSilence > 0 && now - this.lastReportAt >= this.maxSilence;
  }

  private outOfRange(value: TagValue): boolean {
    const r = this.config.range;
    if (r === undefined) return false;
    const n = typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : undefined;
    return n !== undefined && (n < r.min || n > r.max);
  }

  private report(value: TagValue | null, quality: Quality, sourceTime: number, now: number, reason: TagUpdate['reason']): TagUpdate {
    this.reported = true;
    this.lastValue = value;
    this.lastQuality = quality;
    this.lastReportAt = now;
    this.lastSourceTime = sourceTime;
    return { device: this.device, tag: this.config.name, value, quality, sourceTime, gatewayTime: now, reason };
  }
}
