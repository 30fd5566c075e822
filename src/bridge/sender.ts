// How a record becomes a PUBLISH. Pluggable per record kind: the Sparkplug layer registers
// one that encodes stored values with the live session's seq and aliases. Every sender gets
// the dedup key and must carry it (docs/dedup.md).
import type { OutboxRecord, QoS } from '../store/outbox.js';
import { DEDUP_USER_PROPERTY, appendSparkplugDedupField, formatDedupKey, type DedupKey } from './dedup-key.js';

export interface OutgoingMessage {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  /** MQTT 5 user properties; dropped on a 3.1.1 session. */
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

function keyProperty(ctx: SendContext): Record<string, string> | undefined {
  // 3.1.1 has no properties; skip building one per record on the hot path.
  return ctx.protocolVersion === 5 ? { [DEDUP_USER_PROPERTY]: formatDedupKey(ctx.key) } : undefined;
}

/** `mqtt` records: topic and payload as stored, key as a user property (MQTT 5 only). */
export const sendAsIs: RecordSender = (record, ctx) => {
  const userProperties = keyProperty(ctx);
  return { topic: record.topic, payload: record.payload, qos: record.qos, retain: record.retain, ...(userProperties !== undefined ? { userProperties } : {}) };
};

/**
 * `sparkplug` records whose payload is already an encoded Sparkplug B Payload: the key goes
 * in both places so 3.1.1 consumers behind a v5 broker still see it.
 */
export const sendSparkplugEncoded: RecordSender = (record, ctx) => {
  const userProperties = keyProperty(ctx);
  return {
    topic: record.topic,
    payload: appendSparkplugDedupField(record.payload, ctx.key),
    qos: record.qos,
    retain: record.retain,
    ...(userProperties !== undefined ? { userProperties } : {}),
  };
};

export function defaultSenders(): Map<string, RecordSender> {
  return new Map([
    ['mqtt', sendAsIs],
    ['sparkplug', sendSparkplugEncoded],
  ]);
}
