// DBIRTH (spec 4.2.2.1, 6.4.20): right after NBIRTH and before any DATA
// [tck-id-payloads-dbirth-order], seq one more than the previous message
// [tck-id-topics-dbirth-seq], every device metric with name, alias, datatype, value and
// timestamp [tck-id-topics-dbirth-metric-reqs]. QoS 0, retain false [tck-id-topics-dbirth-mqtt].
import { birthMetric, type BirthMetric } from './nbirth.js';
import type { SpPayload } from './payload.js';

export function buildDBirth(o: { timestamp: number; seq: number; metrics: BirthMetric[] }): SpPayload {
  return { timestamp: o.timestamp, seq: o.seq, metrics: o.metrics.map(birthMetric) };
}
