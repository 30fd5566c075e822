// The read-only model behind the status page: one JSON-safe snapshot of the site, assembled
// from accessors the parts already expose. It owns nothing and changes nothing.
import type { DeviceSnapshot, TagValue } from '../runtime/types.js';

export interface TagStatus {
  name: string;
  /** bigint as a decimal string, bytes as hex, non-finite numbers as their name. */
  value: string | number | boolean | null;
  quality: string;
  /** Epoch ms of the value (device time when known); 0 before the first reading. */
  sourceTime: number;
  unit?: string;
  /** Why the quality is not GOOD: the driver's error, a timeout hint, the range it left (issue 20). */
  reason?: string;
  /** While not GOOD: the last GOOD value, when it was read and how long ago (seconds). */
  lastGood?: { value: string | number | boolean | null; at: number; ageSeconds: number };
}

export interface DeviceStatus {
  name: string;
  driver: string;
  state: string;
  lastPollAt: number;
  pollErrors: number;
  lastError?: string;
  tags: TagStatus[];
}

export interface UpstreamStatus {
  connected: boolean;
  /** Sparkplug: NBIRTH published in this session. */
  born: boolean;
  bdSeq: number;
  backlog: number;
  backlogBytes: number;
  oldestAgeSeconds: number;
  /** Records acknowledged per second over the last 10 s. */
  replayRate: number;
  /** Seconds to drain the backlog at that rate; 0 when empty, -1 while nothing drains. */
  etaSeconds: number;
  dropped: { budget: number; age: number; rejected: number };
  /** Issue 17: every server of the list (URLs without credentials), the live one marked. */
  servers?: Array<{ url: string; live: boolean; connectedSeconds: number; lastLeft: string | undefined }>;
  /** Moves from one server to another this run. */
  switches?: number;
}

export interface BrokerClientStatus {
  clientId: string;
  username?: string;
  remoteAddress: string;
  listener: string;
  protocolVersion: number;
}

export interface BrokerStatus {
  listeners: Array<{ protocol: string; host: string; port: number }>;
  retained: number;
  clients: BrokerClientStatus[];
}

export interface StatusSnapshot {
  /** Gateway wall clock when taken: the page computes ages against it, not its own clock. */
  now: number;
  site: { group: string; node: string; version: string; startedAt: number };
  devices: DeviceStatus[];
  upstream: UpstreamStatus | null;
  broker: BrokerStatus | null;
}

export interface StatusSources {
  site: StatusSnapshot['site'];
  now(): number;
  devices(): readonly DeviceSnapshot[];
  /** Unit per `device/tag`, from the config. */
  units: ReadonlyMap<string, string>;
  /** Absent when no upstream is configured (called at every snapshot: the parts start late). */
  upstream(): UpstreamStatus | undefined;
  broker(): BrokerStatus | undefined;
}

export function jsonValue(v: TagValue | null): TagStatus['value'] {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  return Number.isFinite(v) ? v : String(v);
}

export function takeSnapshot(s: StatusSources): StatusSnapshot {
  const now = s.now();
  return {
    now,
    site: s.site,
    devices: s.devices().map((d) => ({
      name: d.name,
      driver: d.driver,
      state: d.state,
      lastPollAt: d.lastPollAt,
      pollErrors: d.pollErrors,
      ...(d.lastError !== undefined ? { lastError: d.lastError } : {}),
      tags: d.tags.map((t) => {
        const unit = s.units.get(`${d.name}/${t.name}`);
        return {
          name: t.name, value: jsonValue(t.value), quality: t.quality, sourceTime: t.sourceTime,
          ...(unit !== undefined ? { unit } : {}),
          ...(t.reason !== undefined ? { reason: t.reason } : {}),
          ...(t.lastGood !== undefined
            ? { lastGood: { value: jsonValue(t.lastGood.value), at: t.lastGood.at, ageSeconds: Math.max(0, Math.round((now - t.lastGood.at) / 1000)) } }
            : {}),
        };
      }),
    })),
    upstream: s.upstream() ?? null,
    broker: s.broker() ?? null,
  };
}

/** What changed between two snapshots, section by section; undefined when nothing did. */
export interface StatusPatch {
  now: number;
  devices?: DeviceStatus[];
  upstream?: UpstreamStatus | null;
  broker?: BrokerStatus | null;
}

export function diffSnapshots(before: StatusSnapshot, after: StatusSnapshot): StatusPatch | undefined {
  const patch: StatusPatch = { now: after.now };
  const old = new Map(before.devices.map((d) => [d.name, JSON.stringify(d)]));
  const devices = after.devices.filter((d) => old.get(d.name) !== JSON.stringify(d));
  if (devices.length > 0) patch.devices = devices;
  if (JSON.stringify(before.upstream) !== JSON.stringify(after.upstream)) patch.upstream = after.upstream;
  if (JSON.stringify(before.broker) !== JSON.stringify(after.broker)) patch.broker = after.broker;
  return Object.keys(patch).length > 1 ? patch : undefined;
}
