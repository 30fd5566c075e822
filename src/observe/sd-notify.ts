// The sd_notify(3) wire protocol without libsystemd: newline-separated KEY=VALUE pairs in one
// datagram to the AF_UNIX socket named by $NOTIFY_SOCKET. Node has no AF_UNIX SOCK_DGRAM, so
// the optional native module unix-dgram carries it; without that module the gateway runs as
// before and systemd (Type=notify) would time the start out, which the one warning explains.
import { createRequire } from 'node:module';
import type { Logger } from './logger.js';

/** The part of unix-dgram this file uses (the package ships no types). */
interface DgramSocket {
  send(buf: Buffer, offset: number, length: number, path: string, callback: (err?: Error & { code?: unknown }) => void): void;
  close(): void;
  on(event: 'error', listener: (err: Error) => void): void;
}
interface UnixDgram {
  createSocket(type: 'unix_dgram'): DgramSocket;
}

export interface NotifyEnvironment {
  /** Where to send; undefined when the process was not started by a service manager. */
  socket: string | undefined;
  /** Half of WATCHDOG_USEC, when the watchdog is on and meant for this process. */
  watchdogIntervalMs: number | undefined;
}

/**
 * Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID and removes them from `env`, as
 * sd_notify(unset_environment=1) does: a child process (udevadm from serialport, say) must not
 * believe it is the service and send its own READY=1.
 */
export function takeNotifyEnvironment(env: NodeJS.ProcessEnv = process.env, pid = process.pid): NotifyEnvironment {
  const socket = env.NOTIFY_SOCKET;
  const usec = env.WATCHDOG_USEC;
  const wpid = env.WATCHDOG_PID;
  delete env.NOTIFY_SOCKET;
  delete env.WATCHDOG_USEC;
  delete env.WATCHDOG_PID;
  let watchdogIntervalMs: number | undefined;
  const us = usec !== undefined && /^\d+$/.test(usec) ? Number(usec) : 0;
  // WATCHDOG_PID names the process systemd watches; an inherited variable (we were started by
  // a script the service runs) is someone else's watchdog.
  const forUs = wpid === undefined || wpid === '' || Number(wpid) === pid;
  if (us > 0 && forUs) watchdogIntervalMs = Math.max(1, Math.floor(us / 2000));
  return { socket: socket === undefined || socket === '' ? undefined : socket, watchdogIntervalMs };
}

export type NotifyFields = Readonly<Record<string, string | number>>;

/** One KEY=VALUE per line; a value cannot carry a newline, so those become spaces. */
export function encodeNotify(fields: NotifyFields): Buffer {
  const lines = Object.entries(fields).map(([k, v]) => `${k}=${String(v).replace(/[\r\n]+/g, ' ')}\n`);
  return Buffer.from(lines.join(''), 'utf8');
}

export type LoadUnixDgram = () => UnixDgram;

const loadUnixDgram: LoadUnixDgram = () => createRequire(import.meta.url)('unix-dgram') as UnixDgram;

/**
 * Sends notifications to one socket. Never throws: a service manager that does not listen must
 * not stop the gateway. Each kind of failure is logged once, not once per watchdog ping.
 */
export class NotifySocket {
  private dgram: UnixDgram | undefined;
  private disabled = false;
  private readonly warned = new Set<string>();

  constructor(
    readonly path: string,
    private readonly log: Logger,
    private readonly load: LoadUnixDgram = loadUnixDgram,
  ) {
    // unix-dgram copies the path with strncpy and passes sizeof(sockaddr_un) as its length, so
    // an abstract name ("@name" is "\0name") cannot be addressed through it.
    if (path.startsWith('@')) {
      this.disable('abstract', { socket: path }, 'NOTIFY_SOCKET is an abstract socket, which this build cannot address: systemd notifications are off');
    } else if (!path.startsWith('/')) {
      this.disable('relative', { socket: path }, 'NOTIFY_SOCKET is not an absolute path: systemd notifications are off');
    }
  }

  /** True when the datagram left; false when it could not (already logged). */
  send(fields: NotifyFields): boolean {
    const dgram = this.module();
    if (dgram === undefined) return false;
    const buf = encodeNotify(fields);
    let ok = false;
    // One socket per message, as libsystemd does: unix-dgram keeps a referenced poll handle on
    // an open socket, which would hold the event loop open after a clean stop.
    let sock: DgramSocket;
    try {
      sock = dgram.createSocket('unix_dgram');
    } catch (e) {
      this.warnOnce('socket', { err: e }, 'cannot create a notify socket');
      return false;
    }
    sock.on('error', (e) => this.warnOnce('error', { err: e }, 'systemd notify socket error'));
    sock.send(buf, 0, buf.length, this.path, (err) => {
      if (err === undefined) ok = true;
      else this.warnOnce(`send:${String(err.code ?? err.message)}`, { socket: this.path, err }, 'cannot send to NOTIFY_SOCKET (is the service manager gone?)');
    });
    try {
      sock.close();
    } catch {
      // Closing a datagram socket only fails on a bad descriptor: nothing left to release.
    }
    return ok;
  }

  private module(): UnixDgram | undefined {
    if (this.disabled) return undefined;
    if (this.dgram === undefined) {
      try {
        this.dgram = this.load();
      } catch (e) {
        this.disable('load', { err: e }, 'the optional module unix-dgram is not available: systemd notifications (READY, WATCHDOG) are off');
        return undefined;
      }
    }
    return this.dgram;
  }

  private disable(key: string, detail: object, msg: string): void {
    this.disabled = true;
    this.warnOnce(key, detail, msg);
  }

  private warnOnce(key: string, detail: object, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log.warn({ part: 'systemd', ...detail }, msg);
  }
}
