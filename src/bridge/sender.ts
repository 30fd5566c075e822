// How a record becomes a PUBLISH. Pluggable per record kind: the Sparkplug layer registers
// one that encodes stored values with the live session's seq and aliases. The dedup key
// (docs/dedup.md) travels as the MQTT 5 user property `fg-dedup`, which the bridge's encoder
// stamps on every PUBLISH itself (publish-encoder.ts); a sender whose payload format has room
// for the key puts it there too (Sparkplug), from `ctx.key`.
import type { OutboxRecord, QoS } from '../store/outbox.js';
import { appendSparkplugDedupField, type DedupKey } from './dedup-key.js';

export interface OutgoingMessage {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  /** Further MQTT 5 user properties (the bridge adds `fg-dedup`); dropped on a 3.1.1 session. */
  userProperties?: Record<string, string>;
}

export interface SendContext {
  key: DedupKey;
  protocolVersion: 4 | 5;
  /** True when the record was produced before this session began (backlog replay). */
  replay: boolean;
}

/** Undefined: nothing to send for this record any more; it is acknowledged as handled. */
export type RecordSender = (record: OutboxRecord, ctx: SendContext) => OutgoingMessage | undefined;

/** `mqtt` records: topic and payload as stored. The record itself is the message: no copy. */
export const sendAsIs: RecordSender = (record) => record;

/**
 * `sparkplug` records whose payload is already an encoded Sparkplug B Payload: the key is
 * appended to the payload as well, so 3.1.1 consumers (and 3.1.1 upstreams) still see it.
 */
export const sendSparkplugEncoded: RecordSender = (record, ctx) => ({
  topic: record.topic,
  payload: appendSparkplugDedupField(record.payload, ctx.key),
  qos: record.qos,
  retain: record.retain,
});

export function defaultSenders(): Map<string, RecordSender> {
  return new Map([
    ['mqtt', sendAsIs],
    ['sparkplug', sendSparkplugEncoded],
  ]);
}
