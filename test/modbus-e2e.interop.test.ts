// End to end (issue 6): Debian's pymodbus server → fieldgate (Modbus driver, runtime,
// Sparkplug edge node, outbox, bridge) → Debian's Mosquitto over MQTT 5 → a host decoding with
// the official proto. The values in the DBIRTH equal what pymodbus encoded in its registers, and
// a DCMD write lands in the server's holding registers.
import { describe, expect, it } from 'vitest';
import { startPymodbus, type PeerTag } from '../drivers/modbus/testing/peers.js';
import { encodePayload } from '../src/sparkplug/payload.js';
import { DataType } from '../src/sparkplug/datatypes.js';
import { Mosquitto } from './helpers/mosquitto.js';
import { birthMetric, TestHost } from './sparkplug/host.js';
import { startGateway } from './sparkplug/gateway-fixture.js';
import { useCleanups } from './helpers/cleanups.js';

const cleanups = useCleanups({ ignoreErrors: true });

/** The value of a birth metric, read from the field its datatype uses. */
function metricValue(m: Record<string, unknown>): unknown {
  const dt = m.datatype as number;
  const int = m.intValue as number;
  switch (dt) {
    case DataType.Int8: return (int << 24) >> 24;
    case DataType.Int16: return (int << 16) >> 16;
    case DataType.Int32: return int | 0;
    case DataType.UInt8: case DataType.UInt16: return int;
    case DataType.UInt32: return Number(m.longValue ?? int);
    case DataType.Int64: return BigInt.asIntN(64, BigInt(m.longValue as string));
    case DataType.UInt64: return BigInt(m.longValue as string);
    case DataType.Float: return m.floatValue;
    case DataType.Double: return m.doubleValue;
    case DataType.Boolean: return m.booleanValue;
    default: return m.stringValue;
  }
}

function yamlTag(t: PeerTag): string {
  return `      - { name: "${t.name}", table: ${t.table}, address: ${t.address}, type: ${t.type}, byteOrder: ${t.byteOrder}${t.length !== undefined ? `, length: ${t.length}` : ''} }`;
}

describe('pymodbus → fieldgate → Mosquitto', () => {
  it('DBIRTH values equal the registers pymodbus wrote, and a DCMD write lands in the server', async () => {
    const peer = await startPymodbus(['tcp']);
    cleanups.push(() => peer.stop());
    const mosq = await Mosquitto.start();
    cleanups.push(() => mosq.close());
    const host = await TestHost.connected(mosq.url, cleanups);
    const devices = `
  - name: plc
    driver: modbus
    pollInterval: 200ms
    connection: { host: 127.0.0.1, port: ${peer.port}, unitId: 1 }
    tags:
${peer.tags.map(yamlTag).join('\n')}
      - { name: setpoint, table: holding, address: 1500, type: uint16, writable: true }
`;
    const gw = await startGateway({ url: mosq.url, protocolVersion: 5, devices });
    cleanups.push(gw.stop);

    // The births at connect may find the device not polled yet (born, then dead at once); the
    // DBIRTH that counts is the one sent when it comes online, with every value.
    const dbirth = await host.waitFor((m) => m.type === 'DBIRTH' && m.device === 'plc' && m.p.metrics?.every((x) => x.isNull !== true) === true, 0, 15_000);
    expect(peer.tags.length).toBeGreaterThanOrEqual(35);
    for (const t of peer.tags) {
      const m = birthMetric(dbirth, t.name);
      expect(m, t.name).toBeDefined();
      const got = metricValue(m!);
      if (t.type === 'int64' || t.type === 'uint64') expect(got, t.name).toBe(BigInt(t.value as string));
      else if (t.type === 'float32') expect(got as number, t.name).toBeCloseTo(t.value as number, 4);
      else expect(got, t.name).toEqual(t.value);
    }

    const alias = BigInt(birthMetric(dbirth, 'setpoint')?.alias as string);
    await host.publish('spBv1.0/plant/DCMD/edge-1/plc', Buffer.from(encodePayload({ metrics: [{ alias, type: DataType.UInt16, writeDatatype: false, value: 4321 }] })), { qos: 0 });
    for (let i = 0; i < 100; i++) {
      if ((await peer.get(1, 'holding', 1500, 1))[0] === 4321) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await peer.get(1, 'holding', 1500, 1)).toEqual([4321]);
    // And the new value comes back up as DDATA.
    await host.waitFor((m) => m.type === 'DDATA' && m.device === 'plc' && m.p.metrics?.some((x) => x.alias === String(alias) && x.intValue === 4321) === true, 0, 10_000);
  });
});
