// `fieldgate host write G/N/D METRIC=VALUE` (issue 14, item 6): one DCMD (NCMD without a
// device), then wait for the edge to echo the new value in DDATA (NDATA). The datatype and the
// aliases come from the last birth the host stored.
import mqtt from 'mqtt';
import type { HostConfig } from '../config/sections/host.js';
import { buildClientOptions } from '../bridge/upstream-options.js';
import { FieldgateError } from '../errors.js';
import { DataType, type DataTypeCode } from '../sparkplug/datatypes.js';
import { decodePayload, encodePayload, type SpValue } from '../sparkplug/payload.js';
import type { Catalogue } from './lifecycle.js';

export interface WriteTarget {
  group: string;
  node: string;
  device: string;
  metric: string;
  text: string;
}

export function parseWriteTarget(path: string, assignment: string): WriteTarget {
  const parts = path.split('/');
  const eq = assignment.indexOf('=');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '') || eq <= 0) {
    throw new FieldgateError('FG_ERR_USAGE', 'usage: fieldgate host write GROUP/NODE[/DEVICE] METRIC=VALUE --config host.yaml');
  }
  return { group: parts[0] as string, node: parts[1] as string, device: parts[2] ?? '', metric: assignment.slice(0, eq), text: assignment.slice(eq + 1) };
}

export function parseValue(type: number, text: string): SpValue {
  switch (type) {
    case DataType.Boolean:
      if (/^(true|1|on)$/i.test(text)) return true;
      if (/^(false|0|off)$/i.test(text)) return false;
      break;
    case DataType.Int64:
    case DataType.UInt64:
      if (/^-?\d+$/.test(text)) return BigInt(text);
      break;
    case DataType.String:
    case DataType.Text:
    case DataType.UUID:
      return text;
    default: {
      const n = Number(text);
      if (text.trim() !== '' && Number.isFinite(n)) return n;
    }
  }
  throw new FieldgateError('FG_ERR_USAGE', `"${text}" is not a value of Sparkplug datatype ${type}`);
}

const same = (type: number, a: SpValue | null | undefined, b: SpValue): boolean =>
  type === DataType.Float ? typeof a === 'number' && Math.fround(a) === Math.fround(Number(b)) : a === b;

export async function hostWrite(cfg: HostConfig, catalogue: Catalogue | undefined, t: WriteTarget, timeoutMs: number): Promise<{ value: SpValue; ms: number }> {
  const def = catalogue?.metrics.find(([d, n]) => d === t.device && n === t.metric);
  if (def === undefined) {
    throw new FieldgateError('FG_ERR_HOST_WRITE', `no birth of ${t.group}/${t.node}${t.device === '' ? '' : '/' + t.device} names metric "${t.metric}" (is the host running and has it seen the birth?)`);
  }
  const type = def[2];
  const value = parseValue(type, t.text);
  const aliases = new Set((catalogue?.aliases ?? []).filter(([, d, n]) => d === t.device && n === t.metric).map(([a]) => a));
  const b = cfg.broker;
  const client = mqtt.connect(b.url, {
    ...buildClientOptions({ url: b.url, protocolVersion: b.protocolVersion, clientId: `fieldgate-host-write-${process.pid}`, username: b.username, password: b.password, tls: b.tls, keepaliveMs: b.keepalive, connectTimeoutMs: 10_000 }),
  });
  const base = `spBv1.0/${t.group}`;
  const dataTopic = t.device === '' ? `${base}/NDATA/${t.node}` : `${base}/DDATA/${t.node}/${t.device}`;
  const cmdTopic = t.device === '' ? `${base}/NCMD/${t.node}` : `${base}/DCMD/${t.node}/${t.device}`;
  const started = Date.now();
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new FieldgateError('FG_ERR_HOST_WRITE', `no ${t.device === '' ? 'NDATA' : 'DDATA'} echo of ${t.metric}=${t.text} within ${timeoutMs} ms`)), timeoutMs);
      client.on('error', (e) => {
        clearTimeout(timer);
        reject(new FieldgateError('FG_ERR_UPSTREAM_CONNECT', `cannot reach ${b.url}: ${e.message}`));
      });
      client.on('message', (_topic, payload) => {
        let p;
        try {
          p = decodePayload(payload);
        } catch {
          return;
        }
        for (const m of p.metrics) {
          const mine = m.name === t.metric || (m.alias !== undefined && aliases.has(m.alias.toString()));
          if (mine && same(type, m.value(type as DataTypeCode), value)) {
            clearTimeout(timer);
            resolve({ value, ms: Date.now() - started });
          }
        }
      });
      client.once('connect', () => {
        client.subscribe(dataTopic, { qos: 0 }, () => {
          const cmd = encodePayload({ timestamp: Date.now(), metrics: [{ name: t.metric, type: type as DataTypeCode, value }] });
          client.publish(cmdTopic, Buffer.from(cmd), { qos: 0 });
        });
      });
    });
  } finally {
    await new Promise<void>((r) => client.end(true, {}, () => r()));
  }
}
