// From the runtime to the outbox: tag updates, device state changes and node metrics become
// Sparkplug records, stored now and encoded only when the bridge drains them (edge-node.ts
// encodes; issue 16 moved the producing side here so the session logic stands alone).
import { errorMessage } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import { valuesEqual } from '../runtime/deadband.js';
import type { TagUpdate, TagValue } from '../runtime/types.js';
import type { Clock } from '../shared/clock.js';
import type { AppendQueue } from '../store/append-queue.js';
import { NODE_METRICS, type NodeMetricValues } from './node-metrics.js';
import type { SpValue } from './payload.js';
import { encodeRecord, SPARKPLUG_RECORD_KIND, type SparkplugRecord, type StoredMetric } from './record.js';
import { deviceTopic, nodeTopic, type EdgeIdentity } from './topics.js';

export interface RecorderOptions {
  identity: EdgeIdentity;
  appendQueue: AppendQueue;
  nodeMetrics: () => NodeMetricValues;
  clock: Clock;
  log: Logger;
}

export class SparkplugRecorder {
  /** Outbox sequence of each device's last measured (non-null) value: does the backlog hold any? */
  private readonly lastMeasuredSeq = new Map<string, number>();
  /** Node metric values last stored or announced in an NBIRTH: NDATA carries only changes. */
  private lastNodeValues = new Map<string, SpValue>();

  constructor(private readonly options: RecorderOptions) {}

  /** One DDATA record per device, in the order the updates came. */
  updates(updates: readonly TagUpdate[]): void {
    const byDevice = new Map<string, StoredMetric[]>();
    for (const u of updates) {
      const list = byDevice.get(u.device) ?? [];
      list.push({ name: u.tag, value: u.value, quality: u.quality, timestamp: u.sourceTime, qualityChanged: u.reason === 'quality' || u.reason === 'initial' });
      byDevice.set(u.device, list);
    }
    this.append([...byDevice].map(([device, metrics]) => ({ type: 'DDATA', device, metrics })));
  }

  /** Node metrics that changed since the last call (or the last NBIRTH), as one NDATA record. */
  nodeMetrics(): void {
    const values = this.options.nodeMetrics();
    const now = this.options.clock.now();
    const changed: StoredMetric[] = [];
    for (const def of NODE_METRICS) {
      const v = values[def.name];
      const last = this.lastNodeValues.get(def.name);
      if (last !== undefined && valuesEqual(last as TagValue, v as TagValue)) continue;
      this.lastNodeValues.set(def.name, v);
      changed.push({ name: def.name, value: v as TagValue, quality: 'GOOD', timestamp: now, qualityChanged: false });
    }
    if (changed.length > 0) this.append([{ type: 'NDATA', metrics: changed }]);
  }

  /** An NBIRTH announced these values: later NDATA is relative to them. */
  announced(values: NodeMetricValues): void {
    this.lastNodeValues = new Map(Object.entries(values));
  }

  /** Does the outbox still hold a measured value of this device (above `acked`)? */
  hasHistory(device: string, acked: number): boolean {
    return (this.lastMeasuredSeq.get(device) ?? 0) > acked;
  }

  append(records: SparkplugRecord[]): void {
    const id = this.options.identity;
    for (const r of records) {
      this.options.appendQueue
        .enqueue({ kind: SPARKPLUG_RECORD_KIND, topic: r.type === 'NDATA' ? nodeTopic(id, 'NDATA') : deviceTopic(id, r.type, r.device), payload: encodeRecord(r), qos: 0 })
        .then((seq) => {
          if (seq !== null && r.type === 'DDATA' && r.metrics.some((m) => m.value !== null)) this.lastMeasuredSeq.set(r.device, seq);
        })
        .catch((e: unknown) => {
          // Disk full or I/O: the store has logged it once and shows it in /health (issue 19: a
          // line per refused record would fill the journal too); the runtime keeps running.
          this.options.log.debug({ err: errorMessage(e), code: (e as { code?: string }).code, type: r.type }, 'could not store Sparkplug data');
        });
    }
  }
}
