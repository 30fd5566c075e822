// A scripted Sparkplug edge node for the host tests (issue 14): MQTT 5, the fg dedup key as a
// user property, seq kept by hand so a test can inject a gap.
import mqtt, { type MqttClient } from 'mqtt';
import { DataType } from '../../src/sparkplug/datatypes.js';
import { encodePayload, type SpMetric } from '../../src/sparkplug/payload.js';

export const G = 'plant';
export const N = 'edge-1';
export const EPOCH = 'ep1';

export class ScriptedEdge {
  seq = 0;
  constructor(readonly client: MqttClient) {}
  static async connect(url: string): Promise<ScriptedEdge> {
    const client = mqtt.connect(url, { protocolVersion: 5, clientId: `edge-${process.pid}-${Math.random()}` });
    await new Promise<void>((r) => client.once('connect', () => r()));
    return new ScriptedEdge(client);
  }
  send(type: string, metrics: SpMetric[], opts: { device?: string; key?: number; seq?: number; noSeq?: boolean } = {}): void {
    const topic = `spBv1.0/${G}/${type}/${N}${opts.device !== undefined ? '/' + opts.device : ''}`;
    const seq = opts.noSeq === true ? undefined : (opts.seq ?? this.seq);
    if (opts.noSeq !== true) this.seq = ((seq ?? 0) + 1) % 256;
    const payload = Buffer.from(encodePayload({ timestamp: Date.now(), ...(seq !== undefined ? { seq } : {}), metrics }));
    this.client.publish(topic, payload, { qos: 0, ...(opts.key !== undefined ? { properties: { userProperties: { 'fg-dedup': `${G}/${N}/${EPOCH}/${opts.key}` } } } : {}) });
  }
  birth(bdSeq: number): void {
    this.seq = 0;
    this.send('NBIRTH', [
      { name: 'bdSeq', type: DataType.UInt64, value: BigInt(bdSeq) },
      { name: 'Node Control/Rebirth', type: DataType.Boolean, value: false, alias: 1 },
    ]);
    this.send('DBIRTH', [
      // Source times as a real edge stamps them (the tags' last change): a rebirth repeats them.
      { name: 'flow', type: DataType.Double, value: 0, alias: 10, timestamp: 1_700_000_000_000 },
      { name: 'count', type: DataType.Int64, value: 0n, alias: 11, timestamp: 1_700_000_000_000 },
    ], { device: 'pump' });
  }
  data(key: number | undefined, flow: number, historical = false): void {
    this.send('DDATA', [
      { alias: 10, type: DataType.Double, writeDatatype: false, value: flow, timestamp: 1_700_000_000_000 + (key ?? 0), isHistorical: historical },
      { alias: 11, type: DataType.Int64, writeDatatype: false, value: 9_007_199_254_740_993n + BigInt(key ?? 0) },
    ], { device: 'pump', ...(key !== undefined ? { key } : {}) });
  }
}
