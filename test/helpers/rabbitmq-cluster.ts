// A 3-node RabbitMQ 3.10 cluster from Debian on one machine, for interop tests (issue 17):
// three private nodes (own RABBITMQ_NODENAME, AMQP/MQTT/distribution ports, data and log
// dirs), the MQTT plugin on each, one private epmd port they share (the nodes find each other
// through it) and the Debian wrapper's cookie (it runs every node and rabbitmqctl as user
// rabbitmq with HOME=/var/lib/rabbitmq, so the cookie is shared). Nodes 2 and 3 join node 1.
// Nothing here touches a system RabbitMQ: other names, other ports, other epmd.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { canConnect, freePort } from './ports.js';
import { killEpmdOn, rabbitNodeDir, rabbitmqUser } from './rabbitmq.js';

const run = promisify(execFile);

export class ClusterNode {
  proc: ChildProcess | undefined;
  constructor(
    readonly name: string,
    readonly mqttPort: number,
    readonly amqpPort: number,
    readonly dir: string,
    readonly env: NodeJS.ProcessEnv,
  ) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.mqttPort}`;
  }

  spawn(): void {
    this.proc = spawn('rabbitmq-server', [], { env: this.env, stdio: 'ignore' });
  }

  async waitOpen(timeoutMs: number): Promise<void> {
    const start = Date.now();
    for (const port of [this.amqpPort, this.mqttPort]) {
      while (!(await canConnect(port))) {
        if (this.proc?.exitCode !== null || Date.now() - start > timeoutMs) throw new Error(`rabbitmq node ${this.name} did not open port ${port} within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  /** rabbitmqctl against this node only (async: the cluster's nodes keep running meanwhile). */
  async ctl(...args: string[]): Promise<string> {
    const { stdout } = await run('rabbitmqctl', ['-n', this.name, ...args], { env: this.env, timeout: 60_000 });
    return stdout;
  }

  /** kill -9 of the Erlang VM (the Debian wrapper is its parent). */
  async kill9(): Promise<void> {
    const proc = this.proc;
    const exited = proc !== undefined && proc.exitCode === null ? new Promise<void>((r) => proc.once('exit', () => r())) : Promise.resolve();
    let pid: number | undefined;
    try {
      pid = Number(readFileSync(join(this.dir, 'pid'), 'utf8').trim());
    } catch {
      pid = undefined;
    }
    if (pid !== undefined && Number.isInteger(pid) && pid > 0) process.kill(pid, 'SIGKILL');
    else proc?.kill('SIGKILL');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    rmSync(join(this.dir, 'pid'), { force: true });
  }

  logTail(n = 30): string {
    try {
      return execFileSync('sh', ['-c', `tail -n ${n} ${join(this.dir, 'log')}/*.log`]).toString();
    } catch {
      return '';
    }
  }
}

export class RabbitCluster {
  private constructor(
    readonly nodes: ClusterNode[],
    private readonly root: string,
    private readonly epmdPort: number,
  ) {}

  static async start(size = 3, timeoutMs = 120_000): Promise<RabbitCluster> {
    const root = mkdtempSync(join(tmpdir(), 'fg-rabbit-cluster-'));
    const epmdPort = await freePort();
    const owner = rabbitmqUser();
    chownSync(root, owner.uid, owner.gid);
    const nodes: ClusterNode[] = [];
    for (let i = 1; i <= size; i++) {
      const dir = join(root, `n${i}`);
      const [mqttPort, amqpPort, distPort] = [await freePort(), await freePort(), await freePort()];
      mkdirSync(dir);
      const name = `fg${process.pid}n${i}@localhost`;
      nodes.push(new ClusterNode(name, mqttPort, amqpPort, dir, rabbitNodeDir(dir, { name, mqttPort, amqpPort, distPort, epmdPort, owner })));
    }
    const cluster = new RabbitCluster(nodes, root, epmdPort);
    try {
      // The first node alone (it starts the shared epmd), then the others at once.
      const [first, ...rest] = nodes as [ClusterNode, ...ClusterNode[]];
      first.spawn();
      await first.waitOpen(timeoutMs);
      for (const n of rest) n.spawn();
      for (const n of rest) await n.waitOpen(timeoutMs);
      for (const n of rest) {
        await n.ctl('stop_app');
        await n.ctl('join_cluster', first.name);
        await n.ctl('start_app');
      }
      for (const n of rest) await n.waitOpen(timeoutMs);
    } catch (e) {
      await cluster.stop();
      throw e;
    }
    return cluster;
  }

  /** Starts a killed node again on its data directory: it rejoins the cluster. */
  async restart(node: ClusterNode, timeoutMs = 90_000): Promise<void> {
    node.spawn();
    await node.waitOpen(timeoutMs);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.nodes.map(async (n) => {
        const proc = n.proc;
        if (proc === undefined || proc.exitCode !== null) return;
        const exited = new Promise<void>((r) => proc.once('exit', () => r()));
        let pid: number | undefined;
        try {
          pid = Number(readFileSync(join(n.dir, 'pid'), 'utf8').trim());
        } catch {
          pid = undefined;
        }
        try {
          if (pid !== undefined && Number.isInteger(pid) && pid > 0) process.kill(pid, 'SIGTERM');
          else proc.kill('SIGTERM');
        } catch {
          // already gone
        }
        await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      }),
    );
    // The shared epmd on our private port: ours only (its environment names that port).
    killEpmdOn(this.epmdPort);
    rmSync(this.root, { recursive: true, force: true });
  }
}
