// `fieldgate watch`: a Sparkplug B stream as JSON lines, for people. Keeps the alias table
// from the births so DATA metrics (alias only, no datatype) print with their names and values.
import mqtt from 'mqtt';
import { decodePayload, type SpValue } from './sparkplug/payload.js';
import { parseTopic } from './sparkplug/topics.js';
import { encodePayload } from './sparkplug/payload.js';
import { DataType, type DataTypeCode } from './sparkplug/datatypes.js';
import { QUALITY_CODE } from './sparkplug/metric-model.js';

export interface WatchOptions {
  url: string;
  topic: string;
  /** Ask every edge node seen for a rebirth, so its births show up even after the fact. */
  rebirth: boolean;
  write: (line: string) => void;
  onError: (message: string) => void;
}

function plain(v: SpValue | null | undefined): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'bigint' ? x.toString() : x));
  return v;
}

const QUALITY_NAME = new Map<number, string>(Object.entries(QUALITY_CODE).map(([name, code]) => [code, name]));
const DATATYPE_NAME = new Map<number, string>(Object.entries(DataType).map(([name, code]) => [code, name]));

function qualityName(code: number | undefined): string | undefined {
  return code === undefined ? undefined : (QUALITY_NAME.get(code) ?? String(code));
}

export function watch(o: WatchOptions): { stop: () => Promise<void> } {
  const client = mqtt.connect(o.url, { protocolVersion: 4, reconnectPeriod: 1000, clientId: `fieldgate-watch-${process.pid}` });
  // alias → name/datatype per edge node (group/node), learned from NBIRTH and DBIRTH.
  const aliases = new Map<string, Map<string, { name: string; type: DataTypeCode; quality: string }>>();
  const asked = new Set<string>();
  const hinted = new Set<string>();
  client.on('connect', () => client.subscribe(o.topic, { qos: 0 }));
  client.on('error', (e) => o.onError(e.message));
  client.on('message', (topic, payload) => {
    const t = parseTopic(topic);
    if (t === undefined || t.kind === 'state') {
      o.write(JSON.stringify({ topic, payload: payload.toString('utf8') }));
      return;
    }
    const nodeKey = `${t.group}/${t.node}`;
    if (o.rebirth && !asked.has(nodeKey) && t.type !== 'NBIRTH') {
      asked.add(nodeKey);
      const cmd = encodePayload({ timestamp: Date.now(), metrics: [{ name: 'Node Control/Rebirth', type: DataType.Boolean, value: true }] });
      client.publish(`spBv1.0/${t.group}/NCMD/${t.node}`, Buffer.from(cmd), { qos: 0 });
    }
    if (t.type === 'NBIRTH') asked.add(nodeKey);
    let decoded;
    try {
      decoded = decodePayload(payload);
    } catch (e) {
      o.write(JSON.stringify({ topic, error: `not a Sparkplug B payload: ${(e as Error).message}` }));
      return;
    }
    let table = aliases.get(nodeKey);
    if (t.type === 'NBIRTH' || table === undefined) {
      table = t.type === 'NBIRTH' ? new Map() : (table ?? new Map());
      aliases.set(nodeKey, table);
    }
    const birth = t.type === 'NBIRTH' || t.type === 'DBIRTH';
    let unknown: string | undefined;
    const metrics = decoded.metrics.map((m) => {
      const key = m.alias !== undefined ? m.alias.toString() : undefined;
      if (birth && key !== undefined && m.name !== undefined && m.datatype !== undefined) {
        // A birth states quality for every metric; absent means GOOD.
        table.set(key, { name: m.name, type: m.datatype as DataTypeCode, quality: qualityName(m.quality) ?? 'GOOD' });
      }
      const known = key !== undefined ? table.get(key) : undefined;
      const type = (m.datatype ?? known?.type) as DataTypeCode | undefined;
      // DATA carries Quality only when it changes (spec 6.4.9.1): keep the last one per metric.
      const quality = qualityName(m.quality) ?? known?.quality;
      if (known !== undefined && quality !== undefined) known.quality = quality;
      const name = m.name ?? known?.name;
      if (name === undefined && key !== undefined) unknown ??= key;
      return {
        ...(name !== undefined ? { name } : { alias: key ?? null, unknownAlias: true }),
        value: m.isNull ? null : plain(type === undefined ? undefined : m.value(type)),
        ...(quality !== undefined ? { quality } : {}),
        ...(type !== undefined ? { datatype: DATATYPE_NAME.get(type) ?? type } : {}),
        ...(m.isHistorical ? { historical: true } : {}),
        ...(m.timestamp !== undefined ? { timestamp: m.timestamp } : {}),
      };
    });
    if (unknown !== undefined && !o.rebirth && !hinted.has(nodeKey)) {
      // Issue 20: joining late leaves DATA aliases without names; say how to get them.
      hinted.add(nodeKey);
      o.onError(`alias ${unknown} of ${nodeKey} is unknown: its birth was published before watch started; run fieldgate watch --rebirth`);
    }
    o.write(JSON.stringify({ topic, type: t.type, ...(decoded.seq !== undefined ? { seq: decoded.seq } : {}), timestamp: decoded.timestamp, metrics }));
  });
  return { stop: () => new Promise<void>((resolve) => client.end(true, {}, () => resolve())) };
}
