// The gateway's side of a Type=notify systemd service: READY=1 once it serves, WATCHDOG=1 from
// the main event loop, STOPPING=1 when a stop begins, and a STATUS= line an operator reads in
// `systemctl status fieldgate`. Without NOTIFY_SOCKET every method does nothing.
import { statSync } from 'node:fs';
import type { HealthRegistry } from './health.js';
import type { Logger } from './logger.js';
import { NotifySocket, takeNotifyEnvironment, type LoadUnixDgram, type NotifyFields } from './sd-notify.js';

export interface SystemdNotifierOptions {
  logger: Logger;
  env?: NodeJS.ProcessEnv;
  pid?: number;
  /** How often the STATUS= line is recomputed (sent only when it changed). */
  statusIntervalMs?: number;
  load?: LoadUnixDgram;
}

/**
 * Opening the store runs SQLite's quick_check, which reads every page, synchronously: on an SD
 * card at ~8 MiB/s a full 512 MiB store takes about a minute, longer than a sensible
 * TimeoutStartSec. systemd only lets EXTEND_TIMEOUT_USEC lengthen the start timeout, never
 * shorten it, so sending a generous estimate is safe.
 */
export function startupBudgetUsec(storeBytes: number): number {
  const base = 30_000_000;
  const perMiB = 125_000; // 8 MiB/s
  return base + Math.ceil(storeBytes / (1024 * 1024)) * perMiB;
}

type Report = ReturnType<HealthRegistry['report']>;

/** One line for `systemctl status`: what is connected and what is waiting, worst news first. */
export function statusLine(report: Report): string {
  const parts: string[] = [];
  const up = report.components.upstream;
  if (up !== undefined) {
    const backlog = typeof up.backlog === 'number' ? up.backlog : 0;
    const bytes = typeof up.backlogBytes === 'number' ? up.backlogBytes : 0;
    const queued = backlog > 0 ? `, ${backlog} records (${mib(bytes)}) buffered` : ', nothing buffered';
    const link = up.connected === true ? (up.born === true ? 'online' : 'connected, not yet born') : 'DISCONNECTED';
    parts.push(`upstream ${link}${queued}`);
  }
  const dev = report.components.devices;
  if (dev !== undefined && typeof dev.total === 'number' && dev.total > 0) parts.push(`devices ${String(dev.online)}/${dev.total} online`);
  const broker = report.components.broker;
  if (broker !== undefined && typeof broker.clients === 'number') parts.push(`broker ${broker.clients} client${broker.clients === 1 ? '' : 's'}`);
  return `${report.status}: ${parts.length > 0 ? parts.join('; ') : 'running'}`;
}

function mib(bytes: number): string {
  return bytes < 1024 * 1024 ? `${Math.ceil(bytes / 1024)} KiB` : `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

export class SystemdNotifier {
  private readonly socket: NotifySocket | undefined;
  private readonly watchdogIntervalMs: number | undefined;
  private readonly statusIntervalMs: number;
  private readonly log: Logger;
  private watchdogTimer: NodeJS.Timeout | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private lastStatus: string | undefined;
  private stopped = false;

  constructor(options: SystemdNotifierOptions) {
    this.log = options.logger.child({ part: 'systemd' });
    const env = takeNotifyEnvironment(options.env ?? process.env, options.pid ?? process.pid);
    this.socket = env.socket !== undefined ? new NotifySocket(env.socket, this.log, options.load) : undefined;
    this.watchdogIntervalMs = env.watchdogIntervalMs;
    this.statusIntervalMs = options.statusIntervalMs ?? 5_000;
  }

  /** Whether a service manager asked to be told anything. */
  get enabled(): boolean {
    return this.socket !== undefined;
  }

  /** Before the store opens: a big store file buys itself a longer start timeout. */
  starting(storeFile: string | undefined): void {
    if (this.socket === undefined) return;
    const size = storeFile !== undefined ? fileSize(storeFile) : undefined;
    if (size === undefined) {
      this.send({ STATUS: 'starting' });
      return;
    }
    this.send({ STATUS: `starting: checking the store (${mib(size)})`, EXTEND_TIMEOUT_USEC: startupBudgetUsec(size) });
  }

  /**
   * The gateway serves: READY=1, then the watchdog. The watchdog pings whatever the gateway's
   * health says. A disconnected upstream or an offline PLC is not something a restart fixes
   * (the outbox and the reconnect back-off already handle them), and restarting on them would
   * drop every local MQTT client in a loop. What a restart does fix is a process that no longer
   * turns its event loop (a busy loop, a synchronous call that never returns), and then these
   * timer callbacks stop running by themselves.
   */
  ready(health: HealthRegistry): void {
    if (this.socket === undefined || this.stopped) return;
    const status = this.currentStatus(health);
    this.lastStatus = status;
    this.send({ READY: 1, STATUS: status });
    this.log.info({ socket: this.socket.path, watchdogMs: this.watchdogIntervalMs !== undefined ? this.watchdogIntervalMs * 2 : undefined }, 'told systemd the gateway is ready');
    if (this.watchdogIntervalMs !== undefined) {
      // unref: a timer that only reports liveness must never be what keeps the process alive.
      this.watchdogTimer = setInterval(() => this.send({ WATCHDOG: 1 }), this.watchdogIntervalMs).unref();
    }
    this.statusTimer = setInterval(() => {
      const next = this.currentStatus(health);
      if (next !== this.lastStatus) {
        this.lastStatus = next;
        this.send({ STATUS: next });
      }
    }, this.statusIntervalMs).unref();
  }

  /** The gateway could not start: say why where the operator looks first. */
  failed(reason: string): void {
    this.send({ STATUS: `failed to start: ${reason}` });
    this.clearTimers();
  }

  /** A stop began; no watchdog pings after this (systemd stops watching in "deactivating"). */
  stopping(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.clearTimers();
    this.send({ STOPPING: 1, STATUS: 'stopping' });
  }

  private currentStatus(health: HealthRegistry): string {
    try {
      return statusLine(health.report());
    } catch (e) {
      // A status line is a courtesy; a failing check must not take the notifier down with it.
      return `running (status unavailable: ${e instanceof Error ? e.message : String(e)})`;
    }
  }

  private clearTimers(): void {
    if (this.watchdogTimer !== undefined) clearInterval(this.watchdogTimer);
    if (this.statusTimer !== undefined) clearInterval(this.statusTimer);
    this.watchdogTimer = undefined;
    this.statusTimer = undefined;
  }

  private send(fields: NotifyFields): void {
    this.socket?.send(fields);
  }
}

function fileSize(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}
