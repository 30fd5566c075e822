// Processes for the interop suite: Debian's pymodbus server and socat pseudo-terminal pairs.
// Each helper resolves on the process's own "ready" output (no fixed sleeps) and returns a
// stop() that kills exactly the process it started.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const PYTHON = '/usr/bin/python3'; // Debian's Python: the one python3-pymodbus installs into
const SERVER = fileURLToPath(new URL('../fixtures/pymodbus-server.py', import.meta.url));

export interface PeerTag {
  name: string;
  table: string;
  address: number;
  type: string;
  byteOrder: string;
  value: number | string | boolean;
  length?: number;
}

export interface PymodbusPeer {
  port: number;
  tags: PeerTag[];
  /** Registers or bits as the server holds them now. */
  get(unit: number, table: string, address: number, count: number): Promise<number[]>;
  stop(): Promise<void>;
}

function stopper(child: ChildProcessWithoutNullStreams): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  };
}

export async function startPymodbus(args: string[], readyMs = 15_000): Promise<PymodbusPeer> {
  const child = spawn(PYTHON, [SERVER, ...args], { stdio: 'pipe' });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const lines = createInterface({ input: child.stdout });
  const waiting: Array<(line: string) => void> = [];
  const nextLine = (): Promise<string> => new Promise((resolve) => waiting.push(resolve));
  lines.on('line', (line) => waiting.shift()?.(line));
  const first = await Promise.race([
    nextLine(),
    new Promise<never>((_, reject) => {
      const timer = setTimeout(() => reject(new Error(`pymodbus not ready in ${readyMs} ms: ${stderr}`)), readyMs);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`pymodbus exited with ${String(code)}: ${stderr}`));
      });
      child.stdout.once('data', () => clearTimeout(timer));
    }),
  ]);
  const ready = JSON.parse(first) as { port: number; tags: PeerTag[] };
  let chain = Promise.resolve<unknown>(undefined);
  return {
    port: ready.port,
    tags: ready.tags,
    get: (unit, table, address, count) => {
      const p = chain.then(async () => {
        const reply = nextLine();
        child.stdin.write(`get ${unit} ${table} ${address} ${count}\n`);
        return JSON.parse(await reply) as number[];
      });
      chain = p.catch(() => undefined);
      return p;
    },
    stop: stopper(child),
  };
}

export interface Socat {
  /** "127.0.0.1:PORT" when one side is TCP-LISTEN:0. */
  listening?: string;
  stop(): Promise<void>;
}

/** Start socat with -d -d and wait until it reports its data transfer loop (or a listener). */
export async function startSocat(addresses: [string, string], readyMs = 5000): Promise<Socat> {
  const child = spawn('socat', ['-d', '-d', ...addresses], { stdio: 'pipe' });
  let log = '';
  const result: Socat = { stop: stopper(child) };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`socat not ready: ${log}`)), readyMs);
    child.stderr.on('data', (d: Buffer) => {
      log += d.toString();
      const listen = /listening on AF=\d+ ([\d.]+:\d+)/.exec(log);
      if (listen !== null) result.listening = listen[1];
      if (listen !== null || log.includes('starting data transfer loop')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`socat exited with ${String(code)}: ${log}`));
    });
  });
  return result;
}
