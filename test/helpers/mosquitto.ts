// Debian's mosquitto as an upstream for interop tests, plus a v5 subscriber that records what
// reaches a central consumer (payload, QoS, user properties, dedup key).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { extractDedupKey, type DedupKey } from '../../src/bridge/dedup-key.js';
import { freePort } from './ports.js';

export interface Delivered {
  topic: string;
  payload: Buffer;
  qos: number;
  userProperties: Record<string, string | string[]> | undefined;
  key: DedupKey | undefined;
  index: number;
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const start = Date.now();
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => { c.destroy(); resolve(true); });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() - start > timeoutMs) throw new Error(`mosquitto did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export class Mosquitto {
  private proc: ChildProcess | undefined;
  private subscriber: MqttClient | undefined;
  readonly received: Delivered[] = [];
  private waiters: Array<{ n: number; resolve: () => void }> = [];

  private constructor(readonly port: number, private readonly dir: string, private readonly persistent: boolean) {}

  /**
   * `persistent`: mosquitto saves sessions on shutdown and the consumer keeps a persistent
   * session, so a broker restart (the outage) loses nothing on the consumer's side.
   */
  static async start(options: { persistent?: boolean; extra?: string[] } = {}): Promise<Mosquitto> {
    const dir = mkdtempSync(join(tmpdir(), 'fg-mosq-'));
    const persistent = options.persistent === true;
    const m = new Mosquitto(await freePort(), dir, persistent);
    // Defaults allow 20 in flight and 1000 queued per client and silently drop the rest.
    writeFileSync(
      join(dir, 'mosquitto.conf'),
      [
        `listener ${m.port} 127.0.0.1`,
        'allow_anonymous true',
        ...(options.extra ?? ['max_inflight_messages 0']),
        'max_queued_messages 0',
        ...(persistent ? ['persistence true', `persistence_location ${dir}/`, 'autosave_interval 0'] : ['persistence false']),
        'user root',
        'log_dest none',
        '',
      ].join('\n'),
    );
    await m.launch();
    return m;
  }

  /** The outage: SIGTERM (mosquitto saves its sessions), then the caller decides when to `launchAgain`. */
  async stopBroker(): Promise<void> {
    await this.signal('SIGTERM');
  }

  /** A crash: kill -9, nothing saved (without persistence the broker forgets everything). */
  async kill9(): Promise<void> {
    await this.signal('SIGKILL');
  }

  /** Sends `signal` to a running broker and waits for it to exit. */
  private async signal(signal: NodeJS.Signals): Promise<void> {
    const p = this.proc;
    if (p === undefined || p.exitCode !== null) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill(signal);
    await exited;
  }

  async launchAgain(): Promise<void> {
    await this.launch();
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  private async launch(): Promise<void> {
    this.proc = spawn('mosquitto', ['-c', join(this.dir, 'mosquitto.conf')], { stdio: 'ignore' });
    await waitForPort(this.port, 5000);
  }

  /** A v5 consumer subscribed to everything at QoS 2, so nothing it is sent is downgraded below the publisher's QoS. */
  async subscribe(filter = '#'): Promise<void> {
    const client = mqtt.connect(this.url, {
      protocolVersion: 5,
      clientId: `central-${process.pid}`,
      reconnectPeriod: 50,
      ...(this.persistent ? { clean: false, properties: { sessionExpiryInterval: 3600 } } : {}),
    });
    this.subscriber = client;
    client.on('message', (topic, payload, packet) => {
      const userProperties = packet.properties?.userProperties;
      this.received.push({ topic, payload, qos: packet.qos, userProperties, key: extractDedupKey({ payload, userProperties }), index: this.received.length });
      this.waiters = this.waiters.filter((w) => (this.received.length >= w.n ? (w.resolve(), false) : true));
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => client.subscribe(filter, { qos: 2 }, (e) => (e ? reject(e) : resolve())));
      client.once('error', reject);
    });
  }

  waitFor(n: number, timeoutMs = 30_000): Promise<void> {
    if (this.received.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${n} messages, have ${this.received.length}`)), timeoutMs);
      this.waiters.push({ n, resolve: () => { clearTimeout(t); resolve(); } });
    });
  }

  async close(): Promise<void> {
    const sub = this.subscriber;
    if (sub !== undefined) await new Promise<void>((r) => sub.end(true, {}, () => r()));
    const p = this.proc;
    if (p !== undefined && p.exitCode === null) {
      const exited = new Promise<void>((r) => p.once('exit', () => r()));
      p.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
