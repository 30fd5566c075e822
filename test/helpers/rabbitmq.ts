// Debian's RabbitMQ 3.10 with the MQTT plugin, for interop tests: its own node name, ports,
// epmd port and data directory, so it neither needs nor disturbs a system RabbitMQ.
// MQTT 3.1.1 only, QoS <= 1. Starting takes ~10-15 s: reuse one node per test file.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canConnect, freePort } from './ports.js';

/** The uid and gid of the rabbitmq user: started as root, the Debian wrapper runs the node as it. */
export function rabbitmqUser(): { uid: number; gid: number } {
  return {
    uid: Number(execFileSync('id', ['-u', 'rabbitmq']).toString().trim()),
    gid: Number(execFileSync('id', ['-g', 'rabbitmq']).toString().trim()),
  };
}

/**
 * Writes one node's files into `dir` (MQTT plugin, anonymous MQTT, AMQP and MQTT on the given
 * loopback ports), owned by the rabbitmq user, and returns the environment that runs the node there.
 */
export function rabbitNodeDir(
  dir: string,
  o: { name: string; mqttPort: number; amqpPort: number; distPort: number; epmdPort: number; owner: { uid: number; gid: number } },
): NodeJS.ProcessEnv {
  writeFileSync(join(dir, 'rabbitmq.conf'), [`listeners.tcp.default = ${o.amqpPort}`, `mqtt.listeners.tcp.default = ${o.mqttPort}`, 'mqtt.allow_anonymous = true', 'loopback_users = none', ''].join('\n'));
  writeFileSync(join(dir, 'enabled_plugins'), '[rabbitmq_mqtt].\n');
  for (const d of ['mnesia', 'log']) mkdirSync(join(dir, d));
  for (const p of [dir, join(dir, 'mnesia'), join(dir, 'log'), join(dir, 'rabbitmq.conf'), join(dir, 'enabled_plugins')]) chownSync(p, o.owner.uid, o.owner.gid);
  return {
    ...process.env,
    RABBITMQ_NODENAME: o.name,
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_PID_FILE: join(dir, 'pid'),
    RABBITMQ_FEATURE_FLAGS_FILE: join(dir, 'feature_flags'),
    RABBITMQ_DIST_PORT: String(o.distPort),
    ERL_EPMD_PORT: String(o.epmdPort),
    ERL_EPMD_ADDRESS: '127.0.0.1',
  };
}

/** Ends the epmd whose environment names `port` (ours only: other epmds are left alone). */
export function killEpmdOn(port: number): void {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('epmd')) continue;
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`ERL_EPMD_PORT=${port}`)) process.kill(Number(pid), 'SIGTERM');
    } catch {
      // gone, or not ours to read
    }
  }
}

export class RabbitMq {
  private constructor(
    readonly mqttPort: number,
    readonly amqpPort: number,
    private readonly dir: string,
    private readonly epmdPort: number,
    private proc: ChildProcess,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** The Erlang VM's pid (the Debian wrapper is its parent). */
  beamPid(): number | undefined {
    try {
      const pid = Number(readFileSync(join(this.dir, 'pid'), 'utf8').trim());
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** kill -9 of the Erlang VM: no shutdown at all, as in a crash. */
  async kill9(): Promise<void> {
    const exited = this.proc.exitCode === null ? new Promise<void>((r) => this.proc.once('exit', () => r())) : Promise.resolve();
    const pid = this.beamPid();
    if (pid !== undefined) process.kill(pid, 'SIGKILL');
    else this.proc.kill('SIGKILL');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    rmSync(join(this.dir, 'pid'), { force: true });
  }

  /** Starts the node again on the same data directory and ports (after kill9). */
  async restart(timeoutMs = 60_000): Promise<void> {
    this.proc = spawn('rabbitmq-server', [], { env: this.env, stdio: 'ignore' });
    await RabbitMq.waitOpen(this.mqttPort, this.proc, timeoutMs);
    await RabbitMq.waitOpen(this.amqpPort, this.proc, timeoutMs);
  }

  /** The node's own log, last `n` lines (for a failing test's message). */
  logTail(n = 40): string {
    try {
      const logs = execFileSync('sh', ['-c', `tail -n ${n} ${join(this.dir, 'log')}/*.log`]).toString();
      return logs;
    } catch {
      return '';
    }
  }

  /**
   * RabbitMQ (3.8-3.10 at least, rabbitmq-server#10070) can leave a single-node quorum queue
   * without a leader after an unclean restart ("leader call - leader not known"), withholding
   * every publisher confirm to it until an election is triggered by hand. This applies the
   * documented workaround when needed. Returns true when it had to.
   */
  async ensureQuorumLeader(queue: string, timeoutMs = 30_000): Promise<boolean> {
    const id = `{'%2F_${queue}', node()}`;
    const start = Date.now();
    let triggered = false;
    while (Date.now() - start < timeoutMs) {
      let out = '';
      try {
        out = this.ctl('eval', `ra:members(${id}, 3000).`);
      } catch {
        out = '';
      }
      if (out.trimStart().startsWith('{ok,')) return triggered;
      try {
        this.ctl('eval', `ra:trigger_election(${id}).`);
        triggered = true;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    throw new Error(`quorum queue ${queue} has no leader after ${timeoutMs} ms`);
  }

  /** rabbitmqctl against this node only. */
  ctl(...args: string[]): string {
    return execFileSync('rabbitmqctl', ['-n', String(this.env.RABBITMQ_NODENAME), ...args], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  }

  private static async waitOpen(port: number, proc: ChildProcess, timeoutMs: number): Promise<void> {
    const start = Date.now();
    while (!(await canConnect(port))) {
      if (proc.exitCode !== null || Date.now() - start > timeoutMs) throw new Error(`rabbitmq did not open port ${port} within ${timeoutMs} ms`);
      await new Promise((res) => setTimeout(res, 250));
    }
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.mqttPort}`;
  }

  static async start(timeoutMs = 45_000): Promise<RabbitMq> {
    const dir = mkdtempSync(join(tmpdir(), 'fg-rabbit-'));
    const [mqttPort, amqpPort, distPort, epmdPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const env = { ...rabbitNodeDir(dir, { name: `fg${process.pid}@localhost`, mqttPort, amqpPort, distPort, epmdPort, owner: rabbitmqUser() }), HOME: dir };
    const proc = spawn('rabbitmq-server', [], { env, stdio: 'ignore' });
    const r = new RabbitMq(mqttPort, amqpPort, dir, epmdPort, proc, env);
    try {
      await RabbitMq.waitOpen(mqttPort, proc, timeoutMs);
      await RabbitMq.waitOpen(amqpPort, proc, timeoutMs);
    } catch (e) {
      await r.stop();
      throw e;
    }
    return r;
  }

  async stop(): Promise<void> {
    let beam: number | undefined;
    try {
      beam = Number(readFileSync(join(this.dir, 'pid'), 'utf8').trim());
    } catch {
      beam = undefined;
    }
    const exited = this.proc.exitCode === null ? new Promise<void>((r) => this.proc.once('exit', () => r())) : Promise.resolve();
    if (beam !== undefined && Number.isInteger(beam)) {
      try {
        process.kill(beam, 'SIGTERM');
      } catch {
        // already gone
      }
    } else this.proc.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    // The node started its own epmd on a private port; stop that one only.
    try {
      execFileSync('epmd', ['-kill'], { env: { ...process.env, ERL_EPMD_PORT: String(this.epmdPort) }, stdio: 'ignore' });
    } catch {
      // no epmd left, or it refused
    }
    // `epmd -kill` does not always take: end the epmd whose environment names our port (ours only).
    killEpmdOn(this.epmdPort);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
