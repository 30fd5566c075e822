// The bridge against RabbitMQ 3.10's MQTT plugin (3.1.1 only, QoS <= 1): QoS 2 records are
// downgraded with one warning, everything arrives with its dedup key, in order.
import { Writable } from 'node:stream';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/observe/logger.js';
import { openStore } from '../src/store/open-store.js';
import { extractDedupKey } from '../src/bridge/dedup-key.js';
import { useScratchDir } from './helpers/cleanups.js';
import { makeBridge, until } from './helpers/bridge-fixture.js';
import { RabbitMq } from './helpers/rabbitmq.js';
import { sample, sampleNumber } from './helpers/records.js';

const scratch = useScratchDir('fg-rabbit-test-');
let rabbit: RabbitMq;

beforeAll(async () => {
  rabbit = await RabbitMq.start();
});

afterAll(async () => {
  await rabbit?.stop();
});

describe('bridge -> RabbitMQ MQTT plugin', () => {
  it('downgrades QoS 2 to 1 with one warning and delivers every record in order with its key', async () => {
    const consumer = mqtt.connect(rabbit.url, { protocolVersion: 4, clientId: 'central', reconnectPeriod: 0 });
    const got: Array<{ seq: number | undefined; n: number; qos: number }> = [];
    consumer.on('message', (_t, payload, packet) => got.push({ seq: extractDedupKey({ payload })?.seq, n: sampleNumber(payload), qos: packet.qos }));
    await new Promise<void>((resolve, reject) => {
      consumer.once('connect', () => consumer.subscribe('spBv1.0/#', { qos: 1 }, (e) => (e ? reject(e) : resolve())));
      consumer.once('error', reject);
    });
    const lines: string[] = [];
    const logger = createLogger({ destination: new Writable({ write(c: Buffer, _e, cb) { lines.push(c.toString()); cb(); } }) });
    const store = openStore({ path: scratch('r.db'), maxBytes: 1 << 30, maxAgeMs: 86_400_000, onFull: 'drop-oldest', synchronous: 'normal' });
    store.outbox.append(Array.from({ length: 300 }, (_, i) => sample(`d${i % 3}`, i + 1, i % 2 === 0 ? 2 : 1)));
    const bridge = makeBridge(store.outbox, rabbit.url, { maxQos: 1, logger, inflight: 10 });
    try {
      bridge.start();
      await until(() => got.length >= 300, 20_000, '300 delivered');
      await until(() => store.outbox.stats().depth === 0, 5000, 'acked');
      expect(got.map((g) => g.seq)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
      expect(got.map((g) => g.n)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
      expect(new Set(got.map((g) => g.qos))).toEqual(new Set([1]));
      expect(lines.filter((l) => l.includes('records downgraded'))).toHaveLength(1);
    } finally {
      await bridge.stop();
      store.close();
      consumer.end(true);
    }
  });
});
