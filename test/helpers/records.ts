// Sparkplug-shaped records for bridge tests: a real encoded Sparkplug B payload per sample, so
// the dedup key travels inside it over MQTT 3.1.1 (aedes) exactly as in the field.
import { decodePayload, encodePayload } from 'sparkplug-payload/lib/sparkplugbpayload.js';
import type { OutboxRecordInput } from '../../src/store/outbox.js';

export function sample(device: string, n: number, qos: 0 | 1 | 2 = 1): OutboxRecordInput {
  const payload = Buffer.from(encodePayload({ timestamp: 1_700_000_000_000 + n, metrics: [{ name: 'n', type: 'UInt32', value: n }] }));
  return { kind: 'sparkplug', topic: `spBv1.0/g/DDATA/node/${device}`, payload, qos };
}

/** The sample number a payload carries. */
export function sampleNumber(payload: Buffer): number {
  return Number(decodePayload(payload).metrics?.[0]?.value);
}
