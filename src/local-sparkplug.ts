// The Sparkplug stream for the site's own clients: the same births, DATA and deaths as the
// upstream gets, published into the local broker in-process, always live (an upstream outage
// must not blind the HMI next to the machine). It has its own session (seq, bdSeq under its
// own key) because it is a separate MQTT audience; NCMD/DCMD from local clients pass the
// broker's ACL before they reach it.
import type { Broker } from './broker/index.js';
import type { DeviceConfig } from './config/sections/devices.js';
import type { Logger } from './observe/logger.js';
import type { Clock } from './shared/clock.js';
import type { Runtime } from './runtime/runtime.js';
import { EdgeNode, type CommandJournal } from './sparkplug/edge-node.js';
import type { NodeMetricValues } from './sparkplug/node-metrics.js';
import { MemoryBdSeqStore, type BdSeqStore } from './sparkplug/sequence.js';
import { AppendQueue } from './store/append-queue.js';
import { MemoryOutbox } from './store/memory-outbox.js';

export interface LocalSparkplugOptions {
  identity: { group: string; node: string };
  devices: readonly DeviceConfig[];
  broker: Broker;
  runtime: Runtime;
  bdSeqStore?: BdSeqStore;
  journal?: CommandJournal;
  nodeMetrics: (commands: { received: number; failed: number; last: string }) => NodeMetricValues;
  clock: Clock;
  logger: Logger;
}

export class LocalSparkplug {
  readonly edge: EdgeNode;
  // Only what was produced since the last drain waits here: a few records, never a backlog.
  private readonly outbox = new MemoryOutbox({ maxBytes: 8 * 1024 * 1024, maxAgeMs: 60_000, onFull: 'drop-oldest' });
  private readonly queue = new AppendQueue(this.outbox);
  private readonly unsubscribe: Array<() => void> = [];
  private drainScheduled: ReturnType<typeof setImmediate> | undefined;
  private cursor = 0;

  constructor(private readonly options: LocalSparkplugOptions) {
    this.edge = new EdgeNode({
      identity: options.identity,
      devices: options.devices,
      outbox: this.outbox,
      appendQueue: this.queue,
      bdSeqStore: options.bdSeqStore ?? new MemoryBdSeqStore(),
      ...(options.journal !== undefined ? { journal: options.journal } : {}),
      write: (device, tag, value) => options.runtime.write(device, tag, value),
      snapshot: () => options.runtime.devices(),
      nodeMetrics: () => options.nodeMetrics(this.edge.commandStats()),
      clock: options.clock,
      logger: options.logger.child({ stream: 'local' }),
    });
    options.runtime.onUpdates((u) => this.edge.onUpdates(u));
    options.runtime.onDeviceState((c) => this.edge.onDeviceState(c));
  }

  start(): void {
    const { broker, identity } = this.options;
    this.unsubscribe.push(this.outbox.onAppend(() => this.scheduleDrain()));
    for (const s of this.edge.subscriptions()) {
      this.unsubscribe.push(broker.subscribe(s.filter, (m) => this.edge.onMessage(m.topic, m.payload), { qos: 1 }));
    }
    this.edge.nextWill(); // a new local session: the next bdSeq, as a reconnect would take
    this.edge.sessionUp({
      publishNow: (topic, payload, qos) => void broker.publish(topic, payload, { qos }),
      resumeDrain: () => this.scheduleDrain(),
      reconnect: () => undefined,
    });
    this.options.logger.info({ group: identity.group, node: identity.node }, 'Sparkplug stream published into the local broker');
  }

  refreshNodeMetrics(): void {
    this.edge.refreshNodeMetrics();
  }

  /** NDEATH to local subscribers: the gateway is going away. */
  stop(): void {
    if (this.drainScheduled !== undefined) clearImmediate(this.drainScheduled);
    this.queue.flush();
    this.drain();
    for (const u of this.unsubscribe.splice(0)) u();
    const death = this.edge.shutdownMessage();
    if (death !== undefined) this.options.broker.publish(death.topic, death.payload, { qos: 1 });
    this.edge.sessionDown();
    this.outbox.close();
  }

  private scheduleDrain(): void {
    this.drainScheduled ??= setImmediate(() => {
      this.drainScheduled = undefined;
      this.drain();
    });
  }

  private drain(): void {
    if (!this.edge.mayDrain) return;
    for (;;) {
      const batch = this.outbox.read(this.cursor, 256);
      if (batch.length === 0) return;
      for (const r of batch) {
        this.cursor = r.seq;
        const m = this.edge.encode(r);
        if (m !== undefined) this.options.broker.publish(m.topic, m.payload, { qos: m.qos });
      }
      this.outbox.ackThrough(this.cursor);
    }
  }
}
