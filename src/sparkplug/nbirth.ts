// NBIRTH (spec 4.2.1.1, 6.4.18): seq 0 [tck-id-topics-nbirth-seq-num], a timestamp
// [tck-id-topics-nbirth-timestamp], the session's bdSeq [tck-id-topics-nbirth-bdseq-included]
// equal to the Will's [tck-id-topics-nbirth-bdseq-matching], `Node Control/Rebirth` = false
// [tck-id-topics-nbirth-rebirth-metric], and every node metric with name, alias and datatype
// [tck-id-payloads-alias-birth-requirement]. Published QoS 0, retain false [tck-id-topics-nbirth-mqtt].
import { DataType } from './datatypes.js';
import type { MetricDefinition } from './metric-model.js';
import { birthProperties } from './metric-model.js';
import type { SpMetric, SpPayload, SpValue } from './payload.js';

export const REBIRTH_METRIC = 'Node Control/Rebirth';
export const BDSEQ_METRIC = 'bdSeq';

export interface BirthMetric {
  def: MetricDefinition;
  alias: bigint;
  value: SpValue | null;
  quality: 'GOOD' | 'BAD' | 'UNCERTAIN';
  timestamp: number;
}

export function birthMetric(m: BirthMetric): SpMetric {
  return {
    name: m.def.name,
    alias: m.alias,
    timestamp: m.timestamp,
    type: m.def.type,
    value: m.value,
    properties: birthProperties(m.def, m.quality),
  };
}

export function buildNBirth(o: { timestamp: number; bdSeq: number; metrics: BirthMetric[] }): SpPayload {
  return {
    timestamp: o.timestamp,
    seq: 0,
    metrics: [
      // bdSeq and the rebirth control are matched by name by every host: never aliased.
      { name: BDSEQ_METRIC, timestamp: o.timestamp, type: DataType.Int64, value: BigInt(o.bdSeq) },
      { name: REBIRTH_METRIC, timestamp: o.timestamp, type: DataType.Boolean, value: false },
      ...o.metrics.map(birthMetric),
    ],
  };
}
