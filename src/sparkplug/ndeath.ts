// NDEATH (spec 4.2.1.3, 6.4.25): the Will of every CONNECT [tck-id-payloads-ndeath-will-message],
// QoS 1 [tck-id-payloads-ndeath-will-message-qos], retain false
// [tck-id-payloads-ndeath-will-message-retain], exactly one metric, bdSeq as Int64
// [tck-id-topics-ndeath-payload], and no seq [tck-id-payloads-ndeath-seq]. Also published by
// hand before an intentional disconnect [tck-id-operational-behavior-edge-node-intentional-disconnect-ndeath].
import { DataType } from './datatypes.js';
import { BDSEQ_METRIC } from './nbirth.js';
import type { SpPayload } from './payload.js';

export function buildNDeath(o: { bdSeq: number; timestamp: number }): SpPayload {
  return { timestamp: o.timestamp, metrics: [{ name: BDSEQ_METRIC, type: DataType.Int64, value: BigInt(o.bdSeq) }] };
}
