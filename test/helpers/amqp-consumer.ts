// The AMQP side of a RabbitMQ test: Debian's python3-pika consuming a durable quorum queue
// bound to amq.topic (amqp-consumer.py), every delivery read back with its dedup key and run
// through the reference deduper.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { readSparkplugDedupField, type DedupKey } from '../../src/bridge/dedup-key.js';
import { Deduper } from '../../src/bridge/deduper.js';
import { until } from './until.js';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'amqp-consumer.py');

export class AmqpConsumer {
  readonly deduper = new Deduper();
  /** Every delivery, duplicates included. */
  deliveries = 0;
  readonly keys: DedupKey[] = [];
  private ready = false;
  readonly stderr: string[] = [];

  private constructor(private readonly proc: ChildProcess) {}

  static async start(port: number, queue: string, binding: string, timeoutMs = 20_000): Promise<AmqpConsumer> {
    const proc = spawn('/usr/bin/python3', [SCRIPT, String(port), queue, binding], { stdio: ['pipe', 'pipe', 'pipe'] });
    const c = new AmqpConsumer(proc);
    createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', (line) => c.onLine(line));
    createInterface({ input: proc.stderr as NodeJS.ReadableStream }).on('line', (line) => c.stderr.push(line));
    await until(() => c.ready || proc.exitCode !== null, timeoutMs, 'the AMQP consumer ready');
    if (!c.ready) throw new Error(`amqp consumer exited: ${c.stderr.join('\n')}`);
    return c;
  }

  private onLine(line: string): void {
    if (line === 'READY') {
      this.ready = true;
      return;
    }
    const sp = line.indexOf(' ');
    const key = readSparkplugDedupField(Buffer.from(line.slice(sp + 1), 'base64'));
    this.deliveries += 1;
    if (key === undefined) return;
    this.keys.push(key);
    this.deduper.accept(key);
  }

  /** Sequences in 1..n of `epoch` that never arrived. */
  missing(n: number, epoch: string): number[] {
    const seen = new Set(this.keys.filter((k) => k.epoch === epoch).map((k) => k.seq));
    const out: number[] = [];
    for (let s = 1; s <= n; s++) if (!seen.has(s)) out.push(s);
    return out;
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const exited = new Promise<void>((r) => this.proc.once('exit', () => r()));
    this.proc.stdin?.end();
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  }
}
