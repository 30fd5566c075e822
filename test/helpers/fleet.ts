// A fleet of light Sparkplug B edge nodes in one process (issue 14): each an MQTT 5 client that
// births once and sends NDATA with fg dedup keys (`<group>/<node>/<epoch>/<seq>`) as a
// fieldgate gateway's bridge would. Values are a function of (node, key, metric), so a test can
// tell exactly which samples a history must hold.
import mqtt, { type MqttClient } from 'mqtt';
import { DataType } from '../../src/sparkplug/datatypes.js';
import { encodePayload, type SpMetric } from '../../src/sparkplug/payload.js';

export const FLEET_TS0 = 1_700_000_000_000;

export class FleetNode {
  readonly client: MqttClient;
  seq = 0;
  key = 0;
  constructor(url: string, readonly group: string, readonly node: string, readonly metrics: number) {
    this.client = mqtt.connect(url, { protocolVersion: 5, clientId: `fleet-${group}-${node}`, reconnectPeriod: 200 });
  }
  ready(): Promise<void> {
    return this.client.connected ? Promise.resolve() : new Promise((r) => this.client.once('connect', () => r()));
  }
  birth(): void {
    this.seq = 0;
    const metrics: SpMetric[] = [{ name: 'bdSeq', type: DataType.UInt64, value: 0n }];
    // Key 0: the birth carries each metric's value k * 1000 + m for k = 0, stamped FLEET_TS0 (the host stores it once).
    for (let m = 0; m < this.metrics; m++) metrics.push({ name: `m${m}`, alias: m + 1, type: DataType.Int64, value: BigInt(m), timestamp: FLEET_TS0 });
    this.client.publish(`spBv1.0/${this.group}/NBIRTH/${this.node}`, Buffer.from(encodePayload({ timestamp: Date.now(), seq: this.seq++, metrics })), { qos: 0 });
  }
  /** One NDATA of every metric; metric m of key k carries k * 1000 + m, timestamp FLEET_TS0 + k. */
  data(): number {
    this.key += 1;
    const metrics: SpMetric[] = [];
    for (let m = 0; m < this.metrics; m++) metrics.push({ alias: m + 1, type: DataType.Int64, writeDatatype: false, value: BigInt(this.key * 1000 + m), timestamp: FLEET_TS0 + this.key });
    const payload = Buffer.from(encodePayload({ timestamp: Date.now(), seq: this.seq, metrics }));
    this.seq = (this.seq + 1) % 256;
    this.client.publish(`spBv1.0/${this.group}/NDATA/${this.node}`, payload, { qos: 0, properties: { userProperties: { 'fg-dedup': `${this.group}/${this.node}/e1/${this.key}` } } });
    return this.key;
  }
  end(): Promise<void> {
    return new Promise((r) => this.client.end(true, {}, () => r()));
  }
}
