// DDEATH (spec 4.2.2.3, 6.4.22): a timestamp and seq one more than the previous message,
// no metrics. QoS 0, retain false [tck-id-topics-ddeath-mqtt] [tck-id-topics-ddeath-seq-num].
import type { SpPayload } from './payload.js';

export function buildDDeath(o: { timestamp: number; seq: number }): SpPayload {
  return { timestamp: o.timestamp, seq: o.seq, metrics: [] };
}
