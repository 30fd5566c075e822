// NDATA and DDATA (spec 4.2.1.2, 4.2.2.2, 6.4.19, 6.4.21) share one payload shape: metrics
// by alias only [tck-id-payloads-alias-data-cmd-requirement], no datatype
// [tck-id-payloads-metric-datatype-not-req], a timestamp on every metric
// [tck-id-payloads-name-birth-data-requirement], seq one more than the previous message.
// QoS 0, retain false [tck-id-topics-ndata-mqtt] [tck-id-topics-ddata-mqtt].
import type { Quality } from '../runtime/types.js';
import type { DataTypeCode } from './datatypes.js';
import { qualityProperty } from './metric-model.js';
import type { SpMetric, SpPayload, SpValue } from './payload.js';

export interface DataMetric {
  alias: bigint;
  type: DataTypeCode;
  value: SpValue | null;
  quality: Quality;
  timestamp: number;
  /** The quality changed with this value: say so even when it became GOOD. */
  qualityChanged: boolean;
  historical: boolean;
}

export function buildData(o: { timestamp: number; seq: number; metrics: DataMetric[] }): SpPayload {
  return {
    timestamp: o.timestamp,
    seq: o.seq,
    metrics: o.metrics.map((m): SpMetric => {
      const out: SpMetric = { alias: m.alias, timestamp: m.timestamp, type: m.type, writeDatatype: false, value: m.value };
      if (m.historical) out.isHistorical = true;
      // Quality rides along only when it is news: every value of a GOOD tag would otherwise
      // carry six bytes of property on a link that may be a cellular modem.
      if (m.quality !== 'GOOD' || m.qualityChanged) out.properties = { Quality: qualityProperty(m.quality) };
      return out;
    }),
  };
}
