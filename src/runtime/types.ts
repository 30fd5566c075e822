// The vocabulary shared by drivers, the runtime and everything downstream of it.

export type Quality = 'GOOD' | 'BAD' | 'UNCERTAIN';

export const TAG_TYPES = [
  'bool',
  'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64',
  'float32', 'float64',
  'string', 'bytes', 'datetime',
] as const;
export type TagType = (typeof TAG_TYPES)[number];

/** int64/uint64 travel as bigint so no precision is lost; datetime is epoch milliseconds. */
export type TagValue = number | bigint | boolean | string | Uint8Array;

/** What a driver reports for one tag: the raw device value, before scale and offset. */
export interface Reading {
  tag: string;
  value: TagValue | null;
  quality: Quality;
  /** Device timestamp (epoch ms) when the device supplies one (OPC UA, GPS). */
  sourceTime?: number;
  /** Why the quality is not GOOD, for logs and the health page. */
  error?: string;
}

/** A value the runtime reports downstream: scaled, deadband-filtered, with both timestamps. */
export interface TagUpdate {
  device: string;
  tag: string;
  value: TagValue | null;
  quality: Quality;
  /** Device time when known, otherwise the gateway time of the reading. */
  sourceTime: number;
  /** When the gateway produced the update. */
  gatewayTime: number;
  reason: 'change' | 'quality' | 'heartbeat' | 'initial';
}

export type DeviceState = 'starting' | 'online' | 'offline' | 'stopped';

export interface DeviceStateChange {
  device: string;
  state: DeviceState;
  previous: DeviceState;
  at: number;
  error?: string;
}

/** One device as it stands now: what births, /health and the status page read. */
export interface DeviceSnapshot {
  name: string;
  driver: string;
  state: DeviceState;
  lastError?: string;
  /** Gateway time (epoch ms) the last poll ended, successful or not; 0 before the first. */
  lastPollAt: number;
  /** Failed polls since the gateway started. */
  pollErrors: number;
  /** `error`: why the tag is not GOOD (the driver's reason, or the device's failure). */
  tags: Array<{ name: string; value: TagValue | null; quality: string; sourceTime: number; error?: string }>;
}
