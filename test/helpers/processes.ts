// Child processes for interop tests (mosquitto clients, paho): spawned, awaited with a bound,
// and always killed in afterEach.
import { spawn, type ChildProcess } from 'node:child_process';

const children = new Set<ChildProcess>();

export interface Running {
  child: ChildProcess;
  /** Output lines that are not mosquitto `-d` debug lines. */
  lines: string[];
  /** Resolves when a line matching `re` (debug lines included) has appeared. */
  waitFor(re: RegExp, ms?: number): Promise<void>;
  /** Resolves with the exit code. */
  exited(ms?: number): Promise<number | null>;
  all: string[];
}

export function run(cmd: string, args: string[], input?: string): Running {
  // Line-buffered: mosquitto_sub's -d lines must arrive as they happen, not at exit.
  const child = spawn('stdbuf', ['-oL', '-eL', cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  const all: string[] = [];
  const lines: string[] = [];
  const waiters: Array<{ re: RegExp; resolve: () => void }> = [];
  let buffered = '';
  const onText = (text: string) => {
    buffered += text;
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const line of parts) {
      all.push(line);
      if (!/^(Client \S+ (sending|received)|Subscribed \(mid)/.test(line)) lines.push(line);
      for (const w of [...waiters]) {
        if (w.re.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    }
  };
  child.stdout?.setEncoding('utf8').on('data', onText);
  child.stderr?.setEncoding('utf8').on('data', onText);
  // 'close', not 'exit': stdout may still hold the last lines when the process has exited.
  const exit = new Promise<number | null>((resolve) => child.once('close', (code) => {
    children.delete(child);
    if (buffered !== '') onText('\n');
    resolve(code);
  }));
  if (input !== undefined) child.stdin?.end(input);
  return {
    child,
    lines,
    all,
    waitFor(re, ms = 5000) {
      if (all.some((l) => re.test(l))) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`${cmd}: no line matching ${re} within ${ms} ms; got:\n${all.join('\n')}`)), ms);
        waiters.push({ re, resolve: () => { clearTimeout(t); resolve(); } });
      });
    },
    exited(ms = 10_000) {
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`${cmd} ${args.join(' ')} did not exit within ${ms} ms; got:\n${all.join('\n')}`)), ms);
        void exit.then((code) => {
          clearTimeout(t);
          resolve(code);
        });
      });
    },
  };
}

export function killAll(): void {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
}
