// A Sparkplug host application for tests: an mqtt.js client that sees what a SCADA host sees
// on spBv1.0/#, decoded by the independent decoder, and can send commands and STATE.
import mqtt, { type MqttClient } from 'mqtt';
import { decodeIndependently } from './independent-decoder.js';

export interface HostMessage {
  topic: string;
  type: string;
  device: string | undefined;
  qos: number;
  retain: boolean;
  p: ReturnType<typeof decodeIndependently>;
  at: number;
}

export class TestHost {
  readonly messages: HostMessage[] = [];
  private constructor(readonly client: MqttClient) {}

  /** A connected host whose close() goes on the test's cleanups. */
  static async connected(url: string, cleanups: Array<() => unknown>): Promise<TestHost> {
    const host = await TestHost.connect(url);
    cleanups.push(() => host.close());
    return host;
  }

  static async connect(url: string, clientId = `host-${process.pid}-${Math.random().toString(16).slice(2)}`): Promise<TestHost> {
    const client = mqtt.connect(url, { clientId, protocolVersion: 4, reconnectPeriod: 100, clean: true });
    const host = new TestHost(client);
    client.on('message', (topic, payload, packet) => {
      const parts = topic.split('/');
      if (parts[1] === 'STATE' || !topic.startsWith('spBv1.0/')) return;
      host.messages.push({ topic, type: parts[2] ?? '', device: parts[4], qos: packet.qos, retain: packet.retain, p: decodeIndependently(payload), at: Date.now() });
    });
    // Resubscribe on every (re)connect: the session is clean.
    client.on('connect', () => client.subscribe('spBv1.0/#', { qos: 1 }));
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await new Promise<void>((resolve) => client.subscribe('spBv1.0/#', { qos: 1 }, () => resolve()));
    return host;
  }

  of(type: string, device?: string): HostMessage[] {
    return this.messages.filter((m) => m.type === type && (device === undefined || m.device === device));
  }

  /** Resolves with the first message from index `from` on that matches; bounded. */
  waitFor(pred: (m: HostMessage) => boolean, from = 0, ms = 10_000): Promise<HostMessage> {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const tick = (): void => {
        const hit = this.messages.slice(from).find(pred);
        if (hit !== undefined) return resolve(hit);
        if (Date.now() - started > ms) return reject(new Error(`host saw no matching message in ${ms} ms; saw ${this.messages.slice(from).map((m) => m.topic).join(', ')}`));
        setTimeout(tick, 10);
      };
      tick();
    });
  }

  publish(topic: string, payload: Buffer | string, opts: { qos?: 0 | 1; retain?: boolean } = {}): Promise<void> {
    return new Promise((resolve, reject) => this.client.publish(topic, payload, { qos: opts.qos ?? 1, retain: opts.retain ?? false }, (e) => (e ? reject(e) : resolve())));
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.client.end(true, {}, () => resolve()));
  }
}

/** The metric of a birth by name. */
export function birthMetric(m: HostMessage, name: string): Record<string, unknown> | undefined {
  return m.p.metrics?.find((x) => x.name === name);
}
