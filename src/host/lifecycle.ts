// The host's model of every edge node and device (issue 14, item 2; Sparkplug B 3.0 host
// rules): online/offline, bdSeq matching, births, aliases and datatypes, seq continuity.
// Pure: it turns one decoded message into samples and, when the stream cannot be trusted, the
// reason to ask that node for a rebirth. The host owns the sockets and the rate limit.
import type { DecodedPayload } from '../sparkplug/payload.js';
import type { ParsedTopic } from '../sparkplug/topics.js';
import { aliasKey, aliasKeyOfText } from './fast-decode.js';
import { QUALITY_GOOD, type Sample } from './sample.js';

export interface MetricDef {
  name: string;
  datatype: number;
}

/** Whether a node or device is online, and when it was last born, heard from, declared dead (ms). */
export interface SeenTimes {
  online: boolean;
  lastBirth?: number;
  lastData?: number;
  lastDeath?: number;
}

export interface DeviceState extends SeenTimes {
  metrics: Map<string, number>;
}

export interface NodeState extends SeenTimes {
  group: string;
  node: string;
  bdSeq?: string;
  /** The seq the next message must carry; undefined until a birth (or after a restore). */
  expectedSeq?: number;
  /** alias (`aliasKey()`) → definition, node-wide [tck-id-payloads-alias-uniqueness]. */
  aliases: Map<number | bigint, MetricDef & { device: string }>;
  /** Node-level metric name → datatype. */
  metrics: Map<string, number>;
  devices: Map<string, DeviceState>;
  counters: { messages: number; samples: number; seqGaps: number; unknownAliases: number; dataBeforeBirth: number; staleDeaths: number; undecodable: number; rebirthsRequested: number };
}

export type RebirthReason = 'seq-gap' | 'unknown-alias' | 'data-before-birth';

export interface Outcome {
  samples: Sample[];
  /** False when some metric could not be decoded: the message must not be marked as stored. */
  complete: boolean;
  rebirth?: RebirthReason;
  /** A birth changed the node's catalogue: persist it with the batch. */
  catalogueChanged: boolean;
  /** The samples are a birth's values (state, stored once: src/host/series-memory.ts). */
  birth?: boolean;
}

export interface Catalogue {
  bdSeq?: string;
  aliases: Array<[string, string, string, number]>;
  metrics: Array<[string, string, number]>;
}

function newNode(group: string, node: string): NodeState {
  return {
    group,
    node,
    online: false,
    aliases: new Map(),
    metrics: new Map(),
    devices: new Map(),
    counters: { messages: 0, samples: 0, seqGaps: 0, unknownAliases: 0, dataBeforeBirth: 0, staleDeaths: 0, undecodable: 0, rebirthsRequested: 0 },
  };
}

const bdSeqOf = (p: DecodedPayload): string | undefined => {
  const m = p.metrics.find((x) => x.name === 'bdSeq');
  const v = m?.value(m.datatype === undefined ? 8 : undefined);
  return v === undefined || v === null ? undefined : String(v);
};

/**
 * A birth's metric values as samples (issue 14, item 1: a value carried only by a birth must
 * reach the history). Left out: the session's own bookkeeping (`bdSeq`, `Node Control/*`) and
 * nulls (a birth's null says no value is known, e.g. an offline device born for its aliases:
 * not a measurement). Which of them are new is decided by the series memory.
 */
function birthSamples(out: Outcome, node: string, device: string, p: DecodedPayload, now: number): void {
  out.birth = true;
  for (const m of p.metrics) {
    const name = m.name;
    if (name === undefined || m.datatype === undefined || m.isNull) continue;
    if (device === '' && (name === 'bdSeq' || name.startsWith('Node Control/'))) continue;
    const value = m.value(m.datatype as never);
    if (value === undefined || value === null) continue;
    out.samples.push({ node, device, metric: name, datatype: m.datatype, value, quality: m.quality ?? QUALITY_GOOD, ts: m.timestamp ?? p.timestamp ?? now, historical: m.isHistorical });
  }
}

export class Lifecycle {
  readonly nodes = new Map<string, NodeState>();

  get(group: string, node: string): NodeState {
    const key = `${group}/${node}`;
    let s = this.nodes.get(key);
    if (s === undefined) {
      s = newNode(group, node);
      this.nodes.set(key, s);
    }
    return s;
  }

  /** After a host restart: the aliases of the session still running (the same bdSeq). */
  restore(key: string, c: Catalogue): void {
    const [group, node] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
    const s = this.get(group, node);
    if (c.bdSeq !== undefined) s.bdSeq = c.bdSeq;
    for (const [alias, device, name, datatype] of c.aliases) if (/^\d+$/.test(alias)) s.aliases.set(aliasKeyOfText(alias), { device, name, datatype });
    for (const [device, name, datatype] of c.metrics) {
      if (device === '') s.metrics.set(name, datatype);
      else this.device(s, device).metrics.set(name, datatype);
    }
  }

  catalogue(s: NodeState): Catalogue {
    const metrics: Array<[string, string, number]> = [...s.metrics].map(([n, t]) => ['', n, t]);
    for (const [d, ds] of s.devices) for (const [n, t] of ds.metrics) metrics.push([d, n, t]);
    return {
      ...(s.bdSeq !== undefined ? { bdSeq: s.bdSeq } : {}),
      aliases: [...s.aliases].map(([a, d]) => [a.toString(), d.device, d.name, d.datatype]),
      metrics,
    };
  }

  private device(s: NodeState, name: string): DeviceState {
    let d = s.devices.get(name);
    if (d === undefined) {
      d = { online: false, metrics: new Map() };
      s.devices.set(name, d);
    }
    return d;
  }

  handle(t: Exclude<ParsedTopic, { kind: 'state' }>, p: DecodedPayload, now: number): Outcome {
    const s = this.get(t.group, t.node);
    s.counters.messages += 1;
    const out: Outcome = { samples: [], complete: true, catalogueChanged: false };
    if (t.type === 'NCMD' || t.type === 'DCMD') return out;

    if (t.type === 'NDEATH') {
      // A death whose bdSeq is not the current birth's belongs to an older session: the node
      // reconnected before the broker sent the old Will [tck-id-host-topic-phid-death-...].
      const bd = bdSeqOf(p);
      if (s.bdSeq !== undefined && bd !== undefined && bd !== s.bdSeq) {
        s.counters.staleDeaths += 1;
        return out;
      }
      s.online = false;
      s.lastDeath = now;
      s.expectedSeq = undefined;
      for (const d of s.devices.values()) if (d.online) {
        d.online = false;
        d.lastDeath = now;
      }
      return out;
    }

    // Every other message carries the session's seq, 0-255 [tck-id-payloads-sequence-num-incrementing].
    if (t.type === 'NBIRTH') {
      s.online = true;
      s.lastBirth = now;
      const bd = bdSeqOf(p);
      if (bd !== undefined) s.bdSeq = bd;
      s.aliases.clear();
      s.metrics.clear();
      s.devices.clear();
      s.expectedSeq = ((p.seq ?? 0) + 1) % 256;
      for (const m of p.metrics) {
        if (m.name === undefined || m.datatype === undefined) continue;
        s.metrics.set(m.name, m.datatype);
        const a = aliasKey(m);
        if (a !== undefined) s.aliases.set(a, { device: '', name: m.name, datatype: m.datatype });
      }
      out.catalogueChanged = true;
      birthSamples(out, `${t.group}/${t.node}`, '', p, now);
      return out;
    }

    if (!s.online) {
      s.counters.dataBeforeBirth += 1;
      out.rebirth = 'data-before-birth';
    }
    if (p.seq !== undefined && s.expectedSeq !== undefined && p.seq !== s.expectedSeq) {
      s.counters.seqGaps += 1;
      out.rebirth ??= 'seq-gap';
    }
    if (p.seq !== undefined) s.expectedSeq = (p.seq + 1) % 256;

    const device = t.kind === 'device' ? t.device : '';
    if (t.type === 'DBIRTH') {
      const d = this.device(s, device);
      d.online = true;
      d.lastBirth = now;
      d.metrics.clear();
      for (const m of p.metrics) {
        if (m.name === undefined || m.datatype === undefined) continue;
        d.metrics.set(m.name, m.datatype);
        const a = aliasKey(m);
        if (a !== undefined) s.aliases.set(a, { device, name: m.name, datatype: m.datatype });
      }
      out.catalogueChanged = true;
      birthSamples(out, `${t.group}/${t.node}`, device, p, now);
      return out;
    }
    if (t.type === 'DDEATH') {
      const d = this.device(s, device);
      d.online = false;
      d.lastDeath = now;
      return out;
    }

    // NDATA / DDATA
    const names = device === '' ? s.metrics : s.devices.get(device)?.metrics;
    if (device !== '' && s.devices.get(device)?.online !== true && out.rebirth === undefined && s.online) {
      s.counters.dataBeforeBirth += 1;
      out.rebirth = 'data-before-birth';
    }
    // One node string per message, not per sample (issue 14 bench: an allocation per sample).
    const nodeKey = `${t.group}/${t.node}`;
    for (const m of p.metrics) {
      // A number key for every alias below 2^53: no BigInt and no string per metric.
      const a = aliasKey(m);
      const byAlias = a !== undefined ? s.aliases.get(a) : undefined;
      const name = m.name ?? byAlias?.name;
      // The alias' definition first: it is the birth's datatype, without a lookup by name.
      const datatype = m.datatype ?? (m.name === undefined ? byAlias?.datatype : undefined) ?? (name !== undefined ? names?.get(name) : undefined) ?? byAlias?.datatype;
      if (name === undefined || datatype === undefined) {
        if (a !== undefined) s.counters.unknownAliases += 1;
        out.rebirth ??= 'unknown-alias';
        out.complete = false;
        continue;
      }
      const value = m.value(datatype as never);
      if (value === undefined) {
        out.complete = false;
        continue;
      }
      out.samples.push({
        node: nodeKey,
        device,
        metric: name,
        datatype,
        value,
        quality: m.quality ?? QUALITY_GOOD,
        ts: m.timestamp ?? p.timestamp ?? now,
        historical: m.isHistorical,
      });
    }
    if (!out.complete) s.counters.undecodable += 1;
    s.lastData = now;
    if (device !== '') this.device(s, device).lastData = now;
    return out;
  }
}
