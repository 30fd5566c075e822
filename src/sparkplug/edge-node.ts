// The Sparkplug B edge node session (spec 3.0 chapter 5): bdSeq per CONNECT, births after the
// command subscriptions (and after the primary host is online when one is configured), DATA
// by exception through the outbox, DDEATH/DBIRTH as devices come and go, rebirth on request,
// NDEATH on the way out. It produces messages; the bridge owns the socket (DESIGN.md).
// Issue 16: what the host commands is commands.ts, what the runtime reports is recorded by
// recorder.ts; this file keeps the session: births, encoding for the wire, primary host.
import type { DeviceConfig } from '../config/sections/devices.js';
import { metricsOfDevice } from './metric-model.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import type { DeviceStateChange, Quality, TagUpdate } from '../runtime/types.js';
import type { OutboxRecord } from '../store/outbox.js';
import { Commands } from './commands.js';
import type { EdgeNodeOptions, OutgoingSparkplug, SessionLink } from './edge-node-options.js';
import { buildData, type DataMetric } from './data.js';
import { BornDevices } from './born-devices.js';
import { encodeContained } from './contained-encode.js';
import { buildDBirth } from './dbirth.js';
import { buildDDeath } from './ddeath.js';
import { MetricIndex } from './metric-index.js';
import { buildNBirth, type BirthMetric } from './nbirth.js';
import { buildNDeath } from './ndeath.js';
import { NODE_METRICS, type NodeMetricValues } from './node-metrics.js';
import { encodePayload, type SpPayload } from './payload.js';
import { decodeRecord, SPARKPLUG_RECORD_KIND, type SparkplugRecord, type StoredMetric } from './record.js';
import { SparkplugRecorder } from './recorder.js';
import { BdSeq, SeqCounter } from './sequence.js';
import { PrimaryHostTracker } from './state.js';
import { deviceTopic, nodeTopic, parseTopic, stateTopic } from './topics.js';

export type { CommandJournal } from './commands.js';
export type { DeviceSnapshot, EdgeNodeOptions, OutgoingSparkplug, SessionLink } from './edge-node-options.js';

export class EdgeNode {
  readonly index: MetricIndex;
  private readonly seq = new SeqCounter();
  private readonly bdSeq: BdSeq;
  private readonly host = new PrimaryHostTracker();
  private readonly log: Logger;
  private link: SessionLink | undefined;
  private born = false;
  private readonly bornDevices = new BornDevices();
  /** Outbox records at or below this sequence were produced before the current births. */
  private birthMark = 0;
  /** Runtime events into the outbox (recorder.ts). */
  private readonly recorder: SparkplugRecorder;
  /** NCMD / DCMD: parsed, bounded, written, journalled (commands.ts). */
  private readonly commands: Commands;

  constructor(private readonly options: EdgeNodeOptions) {
    this.index = new MetricIndex(NODE_METRICS, options.devices);
    this.bdSeq = new BdSeq(options.bdSeqStore);
    this.log = options.logger.child({ part: 'sparkplug' });
    this.recorder = new SparkplugRecorder({ identity: options.identity, appendQueue: options.appendQueue, nodeMetrics: () => options.nodeMetrics(), clock: options.clock, log: this.log });
    this.commands = new Commands({
      index: this.index,
      journal: options.journal,
      write: (device, tag, value) => options.write(device, tag, value),
      clock: options.clock,
      log: this.log,
      rebirth: () => this.publishBirths('rebirth'),
      settled: () => this.refreshNodeMetrics(),
    });
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
    const id = this.options.identity;
    const subs: Array<{ filter: string; qos: 1 }> = [
      { filter: nodeTopic(id, 'NCMD'), qos: 1 },
      { filter: `spBv1.0/${id.group}/DCMD/${id.node}/+`, qos: 1 },
    ];
    if (this.options.primaryHost !== undefined) subs.push({ filter: stateTopic(this.options.primaryHost), qos: 1 });
    return subs;
  }

  sessionUp(link: SessionLink): void {
    this.link = link;
    this.born = false;
    this.bornDevices.clear();
    // Without a primary host the births go out at once; with one they wait for its STATE
    // [tck-id-operational-behavior-edge-node-birth-sequence-wait].
    if (this.options.primaryHost === undefined) this.publishBirths('connect');
    else this.log.info({ primaryHost: this.options.primaryHost }, 'waiting for the primary host to be online before births');
  }

  sessionDown(): void {
    this.commands.cancel();
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
    this.recorder.updates(updates);
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
    this.recorder.nodeMetrics();
  }

  private append(records: SparkplugRecord[]): void {
    this.recorder.append(records);
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
    const now = this.options.clock.now();
    const id = this.options.identity;
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
    const now = this.options.clock.now();
    const id = this.options.identity;
    this.born = false; // no DATA while the births are being written
    this.bornDevices.clear();
    const values = this.options.nodeMetrics();
    const nodeMetrics: BirthMetric[] = this.index.node().map((m) => ({
      def: m.def,
      alias: m.alias,
      value: values[m.def.name as keyof NodeMetricValues] ?? null,
      quality: 'GOOD',
      timestamp: now,
    }));
    this.recorder.announced(values);
    this.seq.reset();
    link.publishNow(nodeTopic(id, 'NBIRTH'), Buffer.from(encodePayload(buildNBirth({ timestamp: now, bdSeq: this.bdSeq.value, metrics: nodeMetrics }))), 0);
    // Only devices that are online now are born: a device still connecting (or offline) has no
    // values to announce, and a DBIRTH of nulls followed by its DDEATH made historians record a
    // false BAD for every tag (issue 12). It is born when it comes online, with its first values.
    // Exception: with a backlog to replay, an offline device is born and dies at once, so that
    // the host knows the aliases its historical DATA uses (the birth then says BAD: the truth).
    // One snapshot for the whole birth sequence: it copies every tag of every device.
    const snapshot = new Map(this.options.snapshot().map((d) => [d.name, d]));
    const acked = this.options.outbox.ackedThrough();
    const hasHistory = (device: string) => this.recorder.hasHistory(device, acked);
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
    this.birthMark = this.options.outbox.stats().lastSeq;
    this.born = true;
    this.log.info({ why, bdSeq: this.bdSeq.value, devices: this.index.devices().length, historicalThrough: this.birthMark }, 'births published');
    link.resumeDrain();
  }

  /** A DBIRTH from the device's current values; the device counts as born from here on. */
  private dbirth(device: string, now: number, snap = this.options.snapshot().find((d) => d.name === device)): { message: OutgoingSparkplug } | undefined {
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
    return { message: { topic: deviceTopic(this.options.identity, 'DBIRTH', device), payload, qos: 0, retain: false } };
  }

  private badValue(device: string | undefined, alias: bigint, e: unknown): void {
    const name = this.index.byAliasOf(alias)?.def.name;
    this.log.error({ code: 'FG_ERR_TAG_VALUE', device, tag: name, alias: String(alias), err: errorMessage(e) }, 'value does not fit its Sparkplug datatype: sent BAD');
  }

  private ndeath(bdSeq: number): OutgoingSparkplug {
    return this.message(nodeTopic(this.options.identity, 'NDEATH'), buildNDeath({ bdSeq, timestamp: this.options.clock.now() }), 1);
  }

  private message(topic: string, payload: SpPayload, qos: 0 | 1): OutgoingSparkplug {
    return { topic, payload: Buffer.from(encodePayload(payload)), qos, retain: false };
  }

  // ---- from the host ----------------------------------------------------------------------

  onMessage(topic: string, payload: Buffer): void {
    const t = parseTopic(topic);
    if (t === undefined) return;
    const id = this.options.identity;
    if (t.kind === 'state') {
      if (t.hostId !== this.options.primaryHost) return;
      const s = (this.options.primaryHostTracker?.() ?? this.host).accept(payload);
      if (s === undefined) {
        this.log.debug({ topic }, 'stale or malformed STATE ignored');
        return;
      }
      if (s.online && !this.born) this.publishBirths('primary host online');
      else if (!s.online && this.link !== undefined) {
        // [tck-id-message-flow-edge-node-birth-publish-phid-offline]: NDEATH, disconnect, start over.
        this.log.warn({ primaryHost: this.options.primaryHost }, 'primary host went offline: NDEATH and reconnect');
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
    if ((t.type === 'NCMD' || t.type === 'DCMD') && !this.commands.admit()) return;
    if (t.kind === 'node' && t.type === 'NCMD') this.commands.handle(payload, undefined, 'NCMD');
    else if (t.kind === 'device' && t.type === 'DCMD') this.commands.handle(payload, t.device, 'DCMD');
  }

  /** Command counters for the node metrics. */
  commandStats(): { received: number; failed: number; last: string; rateLimited: number; rebirthsDeferred: number } {
    return this.commands.stats();
  }
}
