// The vocabulary shared by drivers, the runtime and everything downstream of it.

export type Quality = 'GOOD' | 'BAD' | 'UNCERTAIN';

// The tag types are a leaf module so src/config can name them without importing the runtime.
export { TAG_TYPES, type TagType } from '../shared/tag-types.js';

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
  /** What was read on the wire (register words, bytes, a frame), only when probing. */
  raw?: string;
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
  tags: Array<{
    name: string;
    value: TagValue | null;
    quality: string;
    sourceTime: number;
    /** Why the quality is not GOOD (issue 20). */
    reason?: string;
    /** While not GOOD: the last GOOD value and when it was read (epoch ms). */
    lastGood?: { value: TagValue | null; at: number };
  }>;
}
