// The Sparkplug B edge node session (spec 3.0 chapter 5): bdSeq per CONNECT, births after the
// command subscriptions (and after the primary host is online when one is configured), DATA
// by exception through the outbox, DDEATH/DBIRTH as devices come and go, rebirth on request,
// NDEATH on the way out. It produces messages; the bridge owns the socket (DESIGN.md).
import type { DeviceConfig } from '../config/sections/devices.js';
import { metricsOfDevice } from './metric-model.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import type { Clock } from '../shared/clock.js';
import type { DeviceStateChange, Quality, TagUpdate, TagValue } from '../runtime/types.js';
import type { AppendQueue } from '../store/append-queue.js';
import type { Outbox, OutboxRecord } from '../store/outbox.js';
import { parseCommand } from './commands.js';
import { buildData, type DataMetric } from './data.js';
import { BornDevices } from './born-devices.js';
import { encodeContained } from './contained-encode.js';
import { buildDBirth } from './dbirth.js';
import { buildDDeath } from './ddeath.js';
import { MetricIndex } from './metric-index.js';
import { buildNBirth, type BirthMetric } from './nbirth.js';
import { buildNDeath } from './ndeath.js';
import { NODE_METRICS, type NodeMetricValues } from './node-metrics.js';
import { encodePayload, type SpPayload, type SpValue } from './payload.js';
import { decodeRecord, encodeRecord, SPARKPLUG_RECORD_KIND, type SparkplugRecord, type StoredMetric } from './record.js';
import { BdSeq, SeqCounter, type BdSeqStore } from './sequence.js';
import { PrimaryHostTracker } from './state.js';
import { deviceTopic, nodeTopic, parseTopic, stateTopic, type EdgeIdentity } from './topics.js';
import { valuesEqual } from '../runtime/deadband.js';
import { CommandLimits } from '../runtime/command-limits.js';

export interface DeviceSnapshot {
  name: string;
  state: string;
  tags: Array<{ name: string; value: TagValue | null; quality: Quality | string; sourceTime: number }>;
}

/** What the edge node needs from the live upstream session. */
export interface SessionLink {
  /** Publish at once on this session, ahead of the outbox (births, NDEATH). */
  publishNow(topic: string, payload: Buffer, qos: 0 | 1): void;
  /** Births are out: the outbox may drain again. */
  resumeDrain(): void;
  /** End this session and connect again (primary host went offline). */
  reconnect(): void;
}

export interface CommandJournal {
  received(entry: { source: string; device: string | undefined; metric: string; value: string; receivedAt: number }): number;
  completed(id: number, result: 'ok' | 'refused' | 'failed', error: string | undefined, at: number): void;
}

export interface EdgeNodeOptions {
  identity: EdgeIdentity;
  devices: readonly DeviceConfig[];
  outbox: Outbox;
  /** Group commit in front of the outbox (it also enforces maxAge on the append path). */
  appendQueue: AppendQueue;
  bdSeqStore: BdSeqStore;
  journal?: CommandJournal;
  primaryHost?: string | undefined;
  /** The STATE tracker of the live session's server (issue 17: one per server); default one for all. */
  primaryHostTracker?: () => PrimaryHostTracker;
  /** Writes an engineering value to a device tag (the runtime's write). */
  write: (device: string, tag: string, value: TagValue) => Promise<void>;
  snapshot: () => DeviceSnapshot[];
  nodeMetrics: () => NodeMetricValues;
  clock: Clock;
  logger: Logger;
}

export interface OutgoingSparkplug {
  topic: string;
  payload: Buffer;
  qos: 0 | 1;
  retain: false;
}

export class EdgeNode {
  readonly index: MetricIndex;
  private readonly seq = new SeqCounter();
  private readonly bdSeq: BdSeq;
  private readonly host = new PrimaryHostTracker();
  private readonly log: Logger;
  private link: SessionLink | undefined;
  private born = false;
  private readonly bornDevices = new BornDevices();
  /** Outbox sequence of each device's last measured (non-null) value: does the backlog hold any? */
  private readonly lastMeasuredSeq = new Map<string, number>();
  /** Outbox records at or below this sequence were produced before the current births. */
  private birthMark = 0;
  private lastNodeValues = new Map<string, SpValue>();
  private commandsReceived = 0;
  private commandsFailed = 0;
  private lastCommandResult = 'none';
  /** Issue 19: commands and Rebirths bounded per source (this session's host). */
  private readonly limits: CommandLimits;

  constructor(private readonly o: EdgeNodeOptions) {
    this.index = new MetricIndex(NODE_METRICS, o.devices);
    this.bdSeq = new BdSeq(o.bdSeqStore);
    this.log = o.logger.child({ part: 'sparkplug' });
    this.limits = new CommandLimits({ clock: o.clock, log: this.log });
  }

  get recordKind(): string {
    return SPARKPLUG_RECORD_KIND;
  }

  /** The NDEATH Will for the next CONNECT, with a fresh bdSeq (persisted first). */
  nextWill(): OutgoingSparkplug {
    const bdSeq = this.bdSeq.nextForConnect();
    return this.ndeath(bdSeq);
  }

  /** NCMD and DCMD at QoS 1 before any birth [tck-id-message-flow-edge-node-ncmd-subscribe]. */
  subscriptions(): Array<{ filter: string; qos: 1 }> {
    const id = this.o.identity;
    const subs: Array<{ filter: string; qos: 1 }> = [
      { filter: nodeTopic(id, 'NCMD'), qos: 1 },
      { filter: `spBv1.0/${id.group}/DCMD/${id.node}/+`, qos: 1 },
    ];
    if (this.o.primaryHost !== undefined) subs.push({ filter: stateTopic(this.o.primaryHost), qos: 1 });
    return subs;
  }

  sessionUp(link: SessionLink): void {
    this.link = link;
    this.born = false;
    this.bornDevices.clear();
    // Without a primary host the births go out at once; with one they wait for its STATE
    // [tck-id-operational-behavior-edge-node-birth-sequence-wait].
    if (this.o.primaryHost === undefined) this.publishBirths('connect');
    else this.log.info({ primaryHost: this.o.primaryHost }, 'waiting for the primary host to be online before births');
  }

  sessionDown(): void {
    this.limits.cancel();
    this.link = undefined;
    this.born = false;
    this.bornDevices.clear();
  }

  /** The outbox may drain only after this session's births. */
  get mayDrain(): boolean {
    return this.born;
  }

  get isBorn(): boolean {
    return this.born;
  }

  get currentBdSeq(): number {
    return this.bdSeq.value;
  }

  /** The NDEATH to publish before an intentional disconnect (same bdSeq as the Will). */
  shutdownMessage(): OutgoingSparkplug | undefined {
    try {
      return this.ndeath(this.bdSeq.value);
    } catch {
      return undefined; // never connected: nothing to announce
    }
  }

  // ---- from the runtime -------------------------------------------------------------------

  onUpdates(updates: readonly TagUpdate[]): void {
    const byDevice = new Map<string, StoredMetric[]>();
    for (const u of updates) {
      const list = byDevice.get(u.device) ?? [];
      list.push({ name: u.tag, value: u.value, quality: u.quality, timestamp: u.sourceTime, qualityChanged: u.reason === 'quality' || u.reason === 'initial' });
      byDevice.set(u.device, list);
    }
    this.append([...byDevice].map(([device, metrics]) => ({ type: 'DDATA', device, metrics })));
  }

  onDeviceState(change: DeviceStateChange): void {
    if (change.state === 'online') this.append([{ type: 'DBIRTH', device: change.device }]);
    else if (change.state === 'offline') this.append([{ type: 'DDEATH', device: change.device, timestamp: change.at }]);
  }

  /**
   * Reload (issue 20): a device added, or changed (its supervisor restarted). Its metrics are
   * re-indexed (kept names keep their aliases) and it counts as unborn, so the DBIRTH its
   * supervisor triggers on coming online goes out with the new metrics. No NBIRTH.
   */
  deviceConfigured(device: DeviceConfig): void {
    this.index.setDevice(device.name, metricsOfDevice(device));
    this.bornDevices.died(device.name);
  }

  /** Reload: a device left the config. One DDEATH, and later births leave it out. */
  deviceRemoved(name: string, at: number): void {
    this.append([{ type: 'DDEATH', device: name, timestamp: at }]);
    this.index.removeDevice(name);
  }

  /** Node metrics that changed since the last call, as one NDATA record. */
  refreshNodeMetrics(): void {
    const values = this.o.nodeMetrics();
    const now = this.o.clock.now();
    const changed: StoredMetric[] = [];
    for (const def of NODE_METRICS) {
      const v = values[def.name];
      const last = this.lastNodeValues.get(def.name);
      if (last !== undefined && valuesEqual(last as TagValue, v as TagValue)) continue;
      this.lastNodeValues.set(def.name, v);
      changed.push({ name: def.name, value: v as TagValue, quality: 'GOOD', timestamp: now, qualityChanged: false });
    }
    if (changed.length > 0) this.append([{ type: 'NDATA', metrics: changed }]);
  }

  private append(records: SparkplugRecord[]): void {
    const id = this.o.identity;
    for (const r of records) {
      this.o.appendQueue
        .enqueue({ kind: SPARKPLUG_RECORD_KIND, topic: r.type === 'NDATA' ? nodeTopic(id, 'NDATA') : deviceTopic(id, r.type, r.device), payload: encodeRecord(r), qos: 0 })
        .then((seq) => {
          if (seq !== null && r.type === 'DDATA' && r.metrics.some((m) => m.value !== null)) this.lastMeasuredSeq.set(r.device, seq);
        })
        .catch((e: unknown) => {
          // Disk full or I/O: the store has logged it once and shows it in /health (issue 19: a
          // line per refused record would fill the journal too); the runtime keeps running.
          this.log.debug({ err: errorMessage(e), code: (e as { code?: string }).code, type: r.type }, 'could not store Sparkplug data');
        });
    }
  }

  // ---- to the wire ------------------------------------------------------------------------

  /**
   * Encodes one stored record for the live session, or returns undefined when it has nothing
   * to say any more (a lifecycle record the births already cover, a device we never knew).
   */
  encode(record: OutboxRecord): OutgoingSparkplug | undefined {
    // The bridge holds the outbox while `mayDrain` is false; sending now would put DATA before
    // the births. Throwing (not skipping) keeps the record in the outbox.
    if (!this.born) throw new Error('Sparkplug session has no births yet');
    let r: SparkplugRecord;
    try {
      r = decodeRecord(record.payload);
    } catch (e) {
      this.log.error({ seq: record.seq, err: errorMessage(e) }, 'unreadable Sparkplug record skipped');
      return undefined;
    }
    try {
      return this.encodeRecord(r, record.seq <= this.birthMark);
    } catch (e) {
      // Never out of the drain: the record is skipped with a code, the stream goes on.
      this.log.error({ code: 'FG_ERR_TAG_VALUE', seq: record.seq, type: r.type, err: errorMessage(e) }, 'Sparkplug record could not be encoded: skipped');
      return undefined;
    }
  }

  private encodeRecord(r: SparkplugRecord, historical: boolean): OutgoingSparkplug | undefined {
    const now = this.o.clock.now();
    const id = this.o.identity;
    switch (r.type) {
      case 'NDATA':
      case 'DDATA': {
        const device = r.type === 'DDATA' ? r.device : undefined;
        // No live DATA for a device without a live DBIRTH (issue 12: BAD updates from a device
        // whose first connect failed followed its DDEATH); its next DBIRTH carries the current
        // values. History of a device offline now still goes out, flagged historical: the births
        // taught the host its aliases (see publishBirths) and a measured value is never dropped.
        const unborn = device !== undefined && !this.bornDevices.has(device);
        if (unborn && !historical) return undefined;
        // A null (BAD, no measurement) in the history of an unborn device tells nothing.
        const metrics = this.dataMetrics(device, unborn ? r.metrics.filter((m) => m.value !== null) : r.metrics, historical);
        if (metrics.length === 0) return undefined;
        const seq = this.seq.take();
        const payload = encodeContained(metrics, (ms) => buildData({ timestamp: now, seq, metrics: ms }), (m, e) => this.badValue(device, m.alias, e));
        return { topic: device === undefined ? nodeTopic(id, 'NDATA') : deviceTopic(id, 'DDATA', device), payload, qos: 0, retain: false };
      }
      case 'DBIRTH': {
        // Births at connect already announced the device as it is now.
        if (historical || this.bornDevices.has(r.device)) return undefined;
        return this.dbirth(r.device, now)?.message;
      }
      case 'DDEATH': {
        if (historical || !this.bornDevices.has(r.device)) return undefined;
        this.bornDevices.died(r.device);
        return this.message(deviceTopic(id, 'DDEATH', r.device), buildDDeath({ timestamp: r.timestamp, seq: this.seq.take() }), 0);
      }
    }
  }

  private dataMetrics(device: string | undefined, metrics: StoredMetric[], historical: boolean): DataMetric[] {
    const out: DataMetric[] = [];
    for (const m of metrics) {
      const idx = this.index.get(device, m.name);
      if (idx === undefined) continue;
      // A DBIRTH encoded after this sample was produced may already carry it (issue 12: a
      // poll-mode DBIRTH was followed by a DDATA repeating every value with the same times).
      const relation = historical || device === undefined ? 'live' : this.bornDevices.relation(device, m);
      if (relation === 'repeat') continue;
      out.push({ alias: idx.alias, type: idx.def.type, value: m.value, quality: m.quality, timestamp: m.timestamp, qualityChanged: m.qualityChanged, historical: historical || relation === 'older' });
    }
    return out;
  }

  // ---- births -----------------------------------------------------------------------------

  private publishBirths(why: 'connect' | 'rebirth' | 'primary host online'): void {
    const link = this.link;
    if (link === undefined) return;
    const now = this.o.clock.now();
    const id = this.o.identity;
    this.born = false; // no DATA while the births are being written
    this.bornDevices.clear();
    const values = this.o.nodeMetrics();
    const nodeMetrics: BirthMetric[] = this.index.node().map((m) => ({
      def: m.def,
      alias: m.alias,
      value: values[m.def.name as keyof NodeMetricValues] ?? null,
      quality: 'GOOD',
      timestamp: now,
    }));
    this.lastNodeValues = new Map(Object.entries(values));
    this.seq.reset();
    link.publishNow(nodeTopic(id, 'NBIRTH'), Buffer.from(encodePayload(buildNBirth({ timestamp: now, bdSeq: this.bdSeq.value, metrics: nodeMetrics }))), 0);
    // Only devices that are online now are born: a device still connecting (or offline) has no
    // values to announce, and a DBIRTH of nulls followed by its DDEATH made historians record a
    // false BAD for every tag (issue 12). It is born when it comes online, with its first values.
    // Exception: with a backlog to replay, an offline device is born and dies at once, so that
    // the host knows the aliases its historical DATA uses (the birth then says BAD: the truth).
    // One snapshot for the whole birth sequence: it copies every tag of every device.
    const snapshot = new Map(this.o.snapshot().map((d) => [d.name, d]));
    const acked = this.o.outbox.ackedThrough();
    const hasHistory = (device: string) => (this.lastMeasuredSeq.get(device) ?? 0) > acked;
    for (const device of this.index.devices()) {
      const online = snapshot.get(device)?.state === 'online';
      if (!online && !hasHistory(device)) continue;
      const birth = this.dbirth(device, now, snapshot.get(device));
      if (birth === undefined) continue;
      link.publishNow(birth.message.topic, birth.message.payload, 0);
      if (online) continue;
      this.bornDevices.died(device);
      link.publishNow(deviceTopic(id, 'DDEATH', device), Buffer.from(encodePayload(buildDDeath({ timestamp: now, seq: this.seq.take() }))), 0);
    }
    this.birthMark = this.o.outbox.stats().lastSeq;
    this.born = true;
    this.log.info({ why, bdSeq: this.bdSeq.value, devices: this.index.devices().length, historicalThrough: this.birthMark }, 'births published');
    link.resumeDrain();
  }

  /** A DBIRTH from the device's current values; the device counts as born from here on. */
  private dbirth(device: string, now: number, snap = this.o.snapshot().find((d) => d.name === device)): { message: OutgoingSparkplug } | undefined {
    const current = new Map((snap?.tags ?? []).map((t) => [t.name, t]));
    const metrics: BirthMetric[] = this.index.device(device).map((m) => {
      const t = current.get(m.def.name);
      const quality = (t?.quality as Quality | undefined) ?? 'BAD';
      return { def: m.def, alias: m.alias, value: t?.value ?? null, quality, timestamp: t !== undefined && t.sourceTime > 0 ? t.sourceTime : now };
    });
    if (metrics.length === 0) return undefined;
    const seq = this.seq.take();
    const bad = new Set<BirthMetric>();
    const payload = encodeContained(metrics, (ms) => buildDBirth({ timestamp: now, seq, metrics: ms }), (m, e) => {
      bad.add(m);
      this.badValue(device, m.alias, e);
    });
    this.bornDevices.born(device, metrics.map((m) => (bad.has(m) ? { ...m, value: null, quality: 'BAD' as const } : m)));
    return { message: { topic: deviceTopic(this.o.identity, 'DBIRTH', device), payload, qos: 0, retain: false } };
  }

  private badValue(device: string | undefined, alias: bigint, e: unknown): void {
    const name = this.index.byAliasOf(alias)?.def.name;
    this.log.error({ code: 'FG_ERR_TAG_VALUE', device, tag: name, alias: String(alias), err: errorMessage(e) }, 'value does not fit its Sparkplug datatype: sent BAD');
  }

  private ndeath(bdSeq: number): OutgoingSparkplug {
    return this.message(nodeTopic(this.o.identity, 'NDEATH'), buildNDeath({ bdSeq, timestamp: this.o.clock.now() }), 1);
  }

  private message(topic: string, payload: SpPayload, qos: 0 | 1): OutgoingSparkplug {
    return { topic, payload: Buffer.from(encodePayload(payload)), qos, retain: false };
  }

  // ---- from the host ----------------------------------------------------------------------

  onMessage(topic: string, payload: Buffer): void {
    const t = parseTopic(topic);
    if (t === undefined) return;
    const id = this.o.identity;
    if (t.kind === 'state') {
      if (t.hostId !== this.o.primaryHost) return;
      const s = (this.o.primaryHostTracker?.() ?? this.host).accept(payload);
      if (s === undefined) {
        this.log.debug({ topic }, 'stale or malformed STATE ignored');
        return;
      }
      if (s.online && !this.born) this.publishBirths('primary host online');
      else if (!s.online && this.link !== undefined) {
        // [tck-id-message-flow-edge-node-birth-publish-phid-offline]: NDEATH, disconnect, start over.
        this.log.warn({ primaryHost: this.o.primaryHost }, 'primary host went offline: NDEATH and reconnect');
        const link = this.link;
        const death = this.ndeath(this.bdSeq.value);
        this.born = false;
        link.publishNow(death.topic, death.payload, 1);
        link.reconnect();
      }
      return;
    }
    if (t.group !== id.group || t.node !== id.node) return;
    // Refused before parsing: a flood costs a counter per message, not a decode and a write.
    if ((t.type === 'NCMD' || t.type === 'DCMD') && !this.limits.admit('sparkplug')) return;
    if (t.kind === 'node' && t.type === 'NCMD') this.onCommand(payload, undefined, 'NCMD');
    else if (t.kind === 'device' && t.type === 'DCMD') this.onCommand(payload, t.device, 'DCMD');
  }

  private onCommand(payload: Buffer, device: string | undefined, source: 'NCMD' | 'DCMD'): void {
    let actions;
    try {
      actions = parseCommand(payload, device, this.index);
    } catch (e) {
      this.log.warn({ source, device, err: errorMessage(e) }, 'malformed command payload ignored');
      return;
    }
    for (const a of actions) {
      const now = this.o.clock.now();
      if (a.kind === 'rebirth') {
        // One deferred Rebirth for any number of requests within the hold-off (issue 19).
        if (!this.limits.rebirth(() => this.publishBirths('rebirth'))) continue;
        this.log.info('rebirth requested');
        this.journal(source, undefined, 'Node Control/Rebirth', 'true', 'ok', undefined, now);
        // [tck-id-operational-behavior-data-commands-rebirth-action-1..3]: DATA stops at once,
        // births follow with the same bdSeq.
        this.publishBirths('rebirth');
        continue;
      }
      this.commandsReceived += 1;
      if (a.kind === 'refused') {
        this.commandsFailed += 1;
        this.lastCommandResult = `refused ${a.device ?? 'node'}/${a.metric}: ${a.reason}`;
        this.log.warn({ source, device: a.device, metric: a.metric, reason: a.reason }, 'command refused');
        this.journal(source, a.device, a.metric, '', 'refused', a.reason, now);
        continue;
      }
      const entry = this.o.journal?.received({ source, device: a.device, metric: a.metric, value: printable(a.value), receivedAt: now });
      this.o.write(a.device, a.metric, a.value as TagValue).then(
        () => {
          this.lastCommandResult = `ok ${a.device}/${a.metric}`;
          if (entry !== undefined) this.o.journal?.completed(entry, 'ok', undefined, this.o.clock.now());
          this.log.info({ device: a.device, metric: a.metric }, 'command written');
          this.refreshNodeMetrics();
        },
        (e: unknown) => {
          this.commandsFailed += 1;
          this.lastCommandResult = `failed ${a.device}/${a.metric}: ${errorMessage(e)}`;
          if (entry !== undefined) this.o.journal?.completed(entry, 'failed', errorMessage(e), this.o.clock.now());
          this.log.warn({ device: a.device, metric: a.metric, err: errorMessage(e) }, 'command failed');
          this.refreshNodeMetrics();
        },
      );
    }
  }

  private journal(source: string, device: string | undefined, metric: string, value: string, result: 'ok' | 'refused', error: string | undefined, at: number): void {
    const j = this.o.journal;
    if (j === undefined) return;
    const id = j.received({ source, device, metric, value, receivedAt: at });
    j.completed(id, result, error, at);
  }

  /** Command counters for the node metrics. */
  commandStats(): { received: number; failed: number; last: string; rateLimited: number; rebirthsDeferred: number } {
    return {
      received: this.commandsReceived,
      failed: this.commandsFailed,
      last: this.lastCommandResult,
      rateLimited: this.limits.commandsRefused,
      rebirthsDeferred: this.limits.rebirthsDeferred,
    };
  }
}

function printable(v: SpValue): string {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (Array.isArray(v)) return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
  return String(v);
}
