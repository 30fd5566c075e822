// One stored value (issue 14, "History"): what the historian keeps of a Sparkplug metric.
import type { SpValue } from '../sparkplug/payload.js';

export interface Sample {
  /** `group/node`, the same identity as the dedup key's node. */
  node: string;
  /** '' for a node-level metric. */
  device: string;
  metric: string;
  /** Sparkplug datatype code (spec 6.4.16). */
  datatype: number;
  value: SpValue | null;
  /** Sparkplug quality code: 192 good, 0 bad, 500 uncertain (spec 6.4.9.1). */
  quality: number;
  /** Source timestamp, ms since the epoch. */
  ts: number;
  historical: boolean;
}

export const QUALITY_GOOD = 192;
