// What the Sparkplug edge node is built from and what it hands out (beside edge-node.ts, as
// bridge-options.ts is beside bridge.ts): the gateway, the local Sparkplug view and the tests
// build one from these without reading the session logic.
import type { DeviceConfig } from '../config/sections/devices.js';
import type { Logger } from '../observe/logger.js';
import type { Quality, TagValue } from '../runtime/types.js';
import type { Clock } from '../shared/clock.js';
import type { AppendQueue } from '../store/append-queue.js';
import type { Outbox } from '../store/outbox.js';
import type { CommandJournal } from './commands.js';
import type { NodeMetricValues } from './node-metrics.js';
import type { BdSeqStore } from './sequence.js';
import type { PrimaryHostTracker } from './state.js';
import type { EdgeIdentity } from './topics.js';

export interface DeviceSnapshot {
  name: string;
  state: string;
  tags: Array<{ name: string; value: TagValue | null; quality: Quality | string; sourceTime: number }>;
}

/** What the edge node needs from the live upstream session. */
export interface SessionLink {
  /** Publish at once on this session, ahead of the outbox (births, NDEATH). */
  publishNow(topic: string, payload: Buffer, qos: 0 | 1): void;
  /** Births are out: the outbox may drain again. */
  resumeDrain(): void;
  /** End this session and connect again (primary host went offline). */
  reconnect(): void;
}

export interface EdgeNodeOptions {
  identity: EdgeIdentity;
  devices: readonly DeviceConfig[];
  outbox: Outbox;
  /** Group commit in front of the outbox (it also enforces maxAge on the append path). */
  appendQueue: AppendQueue;
  bdSeqStore: BdSeqStore;
  journal?: CommandJournal;
  primaryHost?: string | undefined;
  /** The STATE tracker of the live session's server (issue 17: one per server); default one for all. */
  primaryHostTracker?: () => PrimaryHostTracker;
  /** Writes an engineering value to a device tag (the runtime's write). */
  write: (device: string, tag: string, value: TagValue) => Promise<void>;
  snapshot: () => DeviceSnapshot[];
  nodeMetrics: () => NodeMetricValues;
  clock: Clock;
  logger: Logger;
}

export interface OutgoingSparkplug {
  topic: string;
  payload: Buffer;
  qos: 0 | 1;
  retain: false;
}
