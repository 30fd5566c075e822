import { describe, expect, it } from 'vitest';
import { decodeIndependently } from '../../test/sparkplug/independent-decoder.js';
import { parseCommand } from './commands.js';
import { buildData } from './data.js';
import { DataType } from './datatypes.js';
import { buildDBirth } from './dbirth.js';
import { buildDDeath } from './ddeath.js';
import { MetricIndex } from './metric-index.js';
import type { MetricDefinition } from './metric-model.js';
import { buildNBirth } from './nbirth.js';
import { buildNDeath } from './ndeath.js';
import { encodePayload } from './payload.js';
import { BdSeq, MemoryBdSeqStore, SeqCounter } from './sequence.js';
import { PrimaryHostTracker } from './state.js';
import { deviceTopic, nodeTopic, parseTopic, stateTopic } from './topics.js';
import type { DeviceConfig } from '../config/sections/devices.js';

const decode = (p: Parameters<typeof encodePayload>[0]) => decodeIndependently(encodePayload(p));

const device = (name: string, tags: Array<Partial<DeviceConfig['tags'][number]>>): DeviceConfig =>
  ({ name, driver: 'simulator', enabled: true, tags: tags.map((t) => ({ type: 'float64', scale: 1, offset: 0, writable: false, ...t })) }) as DeviceConfig;

const nodeDefs: MetricDefinition[] = [{ name: 'Node Info/Version', type: DataType.String, writable: false }];

describe('Sparkplug topics', () => {
  it('builds and parses the namespace', () => {
    const id = { group: 'plant', node: 'edge-1' };
    expect(nodeTopic(id, 'NBIRTH')).toBe('spBv1.0/plant/NBIRTH/edge-1');
    expect(deviceTopic(id, 'DDATA', 'pump')).toBe('spBv1.0/plant/DDATA/edge-1/pump');
    expect(stateTopic('scada')).toBe('spBv1.0/STATE/scada');
    expect(parseTopic('spBv1.0/plant/DCMD/edge-1/pump')).toEqual({ kind: 'device', group: 'plant', type: 'DCMD', node: 'edge-1', device: 'pump' });
    expect(parseTopic('spBv1.0/plant/NCMD/edge-1')).toEqual({ kind: 'node', group: 'plant', type: 'NCMD', node: 'edge-1' });
    expect(parseTopic('spBv1.0/STATE/scada')).toEqual({ kind: 'state', hostId: 'scada' });
    expect(parseTopic('spBv1.0/plant/NCMD/edge-1/x')).toBeUndefined();
    expect(parseTopic('spBv1.0/plant/DCMD/edge-1')).toBeUndefined();
    expect(parseTopic('other/plant/NCMD/edge-1')).toBeUndefined();
  });
});

describe('Sparkplug counters', () => {
  it('seq is 0 on NBIRTH and wraps from 255 to 0', () => {
    const s = new SeqCounter();
    expect(s.reset()).toBe(0);
    const seen = Array.from({ length: 300 }, () => s.take());
    expect(seen[0]).toBe(1);
    expect(seen[254]).toBe(255);
    expect(seen[255]).toBe(0);
    expect(seen[299]).toBe(44);
  });

  it('bdSeq starts at 0, grows by one per CONNECT, wraps at 255 and survives a restart through its store', () => {
    const store = new MemoryBdSeqStore();
    const a = new BdSeq(store);
    expect(a.nextForConnect()).toBe(0);
    expect(a.nextForConnect()).toBe(1);
    expect(a.value).toBe(1);
    const restarted = new BdSeq(store);
    expect(restarted.nextForConnect()).toBe(2);
    const wrapping = new BdSeq(new MemoryBdSeqStore(255));
    expect(wrapping.nextForConnect()).toBe(0);
  });
});

describe('Sparkplug messages, decoded independently', () => {
  const index = new MetricIndex(nodeDefs, [
    device('pump', [{ name: 'flow', unit: 'm3/h' }, { name: 'sp', type: 'int16', writable: true }]),
    device('tank', [{ name: 'flow' }]),
  ]);

  it('aliases are unique across the node, devices included', () => {
    const all = [...index.node(), ...index.device('pump'), ...index.device('tank')].map((m) => m.alias);
    expect(new Set(all).size).toBe(all.length);
    expect(index.get('pump', 'flow')?.alias).not.toBe(index.get('tank', 'flow')?.alias);
  });

  it('NBIRTH: seq 0, timestamp, bdSeq Int64 first, Node Control/Rebirth false, node metrics with name + alias + datatype', () => {
    const p = decode(
      buildNBirth({
        timestamp: 1000,
        bdSeq: 7,
        metrics: index.node().map((m) => ({ def: m.def, alias: m.alias, value: '0.1.0', quality: 'GOOD' as const, timestamp: 1000 })),
      }),
    );
    expect(p).toMatchObject({ timestamp: '1000', seq: '0' });
    expect(p.metrics?.[0]).toMatchObject({ name: 'bdSeq', datatype: DataType.Int64, longValue: '7' });
    expect(p.metrics?.[0]?.alias).toBeUndefined();
    expect(p.metrics?.[1]).toMatchObject({ name: 'Node Control/Rebirth', datatype: DataType.Boolean, booleanValue: false });
    expect(p.metrics?.[1]?.alias).toBeUndefined();
    expect(p.metrics?.[2]).toMatchObject({ name: 'Node Info/Version', alias: String(index.get(undefined, 'Node Info/Version')?.alias), datatype: DataType.String, stringValue: '0.1.0', timestamp: '1000' });
  });

  it('DBIRTH: every metric with datatype, value, timestamp, quality and unit', () => {
    const p = decode(
      buildDBirth({
        timestamp: 2000,
        seq: 1,
        metrics: index.device('pump').map((m) => ({ def: m.def, alias: m.alias, value: m.def.name === 'sp' ? 5 : null, quality: m.def.name === 'sp' ? ('GOOD' as const) : ('BAD' as const), timestamp: 1990 })),
      }),
    );
    expect(p.seq).toBe('1');
    const flow = p.metrics?.find((m) => m.name === 'flow');
    expect(flow).toMatchObject({ datatype: DataType.Double, isNull: true, timestamp: '1990' });
    expect(flow?.properties).toEqual({
      keys: ['Quality', 'engUnit', 'readOnly'],
      values: [
        { type: DataType.Int32, intValue: 0 },
        { type: DataType.String, stringValue: 'm3/h' },
        { type: DataType.Boolean, booleanValue: true },
      ],
    });
    expect(p.metrics?.find((m) => m.name === 'sp')).toMatchObject({ datatype: DataType.Int16, intValue: 5 });
  });

  it('DATA: alias only, no name, no datatype, timestamp per metric, quality only when it is news', () => {
    const alias = index.get('pump', 'flow')?.alias ?? 0n;
    const p = decode(
      buildData({
        timestamp: 3000,
        seq: 2,
        metrics: [
          { alias, type: DataType.Double, value: 1.5, quality: 'GOOD', timestamp: 2999, qualityChanged: false, historical: false },
          { alias, type: DataType.Double, value: null, quality: 'BAD', timestamp: 3000, qualityChanged: true, historical: false },
          { alias, type: DataType.Double, value: 2, quality: 'GOOD', timestamp: 3001, qualityChanged: true, historical: true },
        ],
      }),
    );
    const [a, b, c] = p.metrics ?? [];
    expect(a).toEqual({ alias: String(alias), timestamp: '2999', doubleValue: 1.5 });
    expect(b).toMatchObject({ alias: String(alias), isNull: true, properties: { keys: ['Quality'], values: [{ type: 3, intValue: 0 }] } });
    expect(c).toMatchObject({ isHistorical: true, doubleValue: 2, properties: { keys: ['Quality'], values: [{ type: 3, intValue: 192 }] } });
  });

  it('DDEATH carries timestamp and seq only; NDEATH carries bdSeq only and no seq', () => {
    expect(decode(buildDDeath({ timestamp: 5, seq: 9 }))).toEqual({ timestamp: '5', seq: '9' });
    const nd = decode(buildNDeath({ bdSeq: 3, timestamp: 6 }));
    expect(nd.seq).toBeUndefined();
    expect(nd.metrics).toEqual([{ name: 'bdSeq', datatype: DataType.Int64, longValue: '3' }]);
  });
});

describe('Sparkplug commands', () => {
  const index = new MetricIndex(nodeDefs, [device('pump', [{ name: 'flow' }, { name: 'sp', type: 'int16', writable: true }])]);
  const sp = index.get('pump', 'sp')?.alias ?? 0n;

  it('a rebirth request by name', () => {
    const cmd = encodePayload({ metrics: [{ name: 'Node Control/Rebirth', type: DataType.Boolean, value: true }] });
    expect(parseCommand(Buffer.from(cmd), undefined, index)).toEqual([{ kind: 'rebirth' }]);
    const no = encodePayload({ metrics: [{ name: 'Node Control/Rebirth', type: DataType.Boolean, value: false }] });
    expect(parseCommand(Buffer.from(no), undefined, index)[0]).toMatchObject({ kind: 'refused' });
  });

  it('a DCMD write by alias (no datatype, as hosts send it) and by name', () => {
    const byAlias = encodePayload({ metrics: [{ alias: sp, type: DataType.Int16, writeDatatype: false, value: -12 }] });
    expect(parseCommand(Buffer.from(byAlias), 'pump', index)).toEqual([{ kind: 'write', device: 'pump', metric: 'sp', value: -12 }]);
    const byName = encodePayload({ metrics: [{ name: 'sp', type: DataType.Int16, value: 7 }] });
    expect(parseCommand(Buffer.from(byName), 'pump', index)).toEqual([{ kind: 'write', device: 'pump', metric: 'sp', value: 7 }]);
  });

  it('refuses read-only, unknown, other-device and valueless metrics, each with a reason', () => {
    const flow = index.get('pump', 'flow')?.alias ?? 0n;
    const payload = encodePayload({
      metrics: [
        { alias: flow, type: DataType.Double, writeDatatype: false, value: 1 },
        { name: 'nope', type: DataType.Double, value: 1 },
        { alias: sp, type: DataType.Int16, writeDatatype: false, value: null },
      ],
    });
    const actions = parseCommand(Buffer.from(payload), 'pump', index);
    expect(actions.map((a) => (a.kind === 'refused' ? a.reason : a.kind))).toEqual([
      'metric is not writable',
      'no such metric on pump',
      "no value of the metric's datatype (2)",
    ]);
    expect(parseCommand(Buffer.from(encodePayload({ metrics: [{ alias: sp, type: DataType.Int16, value: 1 }] })), 'tank', index)[0]).toMatchObject({ kind: 'refused' });
  });
});

describe('primary host STATE', () => {
  it('follows online/offline and ignores stale or malformed messages', () => {
    const t = new PrimaryHostTracker();
    expect(t.online).toBe(false);
    expect(t.accept(Buffer.from('{"online":true,"timestamp":100}'))).toEqual({ online: true, timestamp: 100 });
    expect(t.online).toBe(true);
    expect(t.accept(Buffer.from('{"online":false,"timestamp":50}'))).toBeUndefined();
    expect(t.online).toBe(true);
    expect(t.accept(Buffer.from('ONLINE'))).toBeUndefined();
    expect(t.accept(Buffer.from('{"online":"yes","timestamp":200}'))).toBeUndefined();
    expect(t.accept(Buffer.from('{"online":false,"timestamp":100}'))).toEqual({ online: false, timestamp: 100 });
    expect(t.online).toBe(false);
    // The same retained STATE delivered again (a new session) is not news.
    expect(t.accept(Buffer.from('{"online":false,"timestamp":100}'))).toBeUndefined();
  });
});
