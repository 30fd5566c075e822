// Test fixture: a connected pair of pseudo-terminals from Debian's socat, and peers that play
// serial devices on the far end (drivers/serial/testing/peer.py on Debian's Python).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { until } from '../../../test/helpers/until.js';

const PEER = fileURLToPath(new URL('./peer.py', import.meta.url));

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

export class PtyPair {
  readonly dir = mkdtempSync(join(tmpdir(), 'fg-pty-'));
  /** The gateway's end. */
  readonly device = join(this.dir, 'gateway');
  /** The instrument's end. */
  readonly peerPath = join(this.dir, 'instrument');
  private socat: ChildProcess | undefined;
  private peers: ChildProcess[] = [];

  async up(): Promise<void> {
    // detached: socat in its own session, as a real port's driver is. Measured: when socat shares
    // the test's session, its exit does not hang up the gateway's end (no POLLHUP/EIO reaches
    // serialport), so a pulled cable would go unnoticed by the test, not by the gateway.
    this.socat = spawn('socat', [`pty,raw,echo=0,link=${this.device}`, `pty,raw,echo=0,link=${this.peerPath}`], { stdio: 'ignore', detached: true });
    await until(() => existsSync(this.device) && existsSync(this.peerPath), 3000, 'socat pseudo-terminals');
  }

  /** The cable is pulled: socat exits, both ptys vanish, the peer sees EIO and exits. */
  async down(): Promise<void> {
    const s = this.socat;
    this.socat = undefined;
    if (s !== undefined) {
      s.kill('SIGTERM');
      await exited(s);
    }
    await Promise.all(this.peers.map((p) => (p.kill('SIGTERM'), exited(p))));
    this.peers = [];
  }

  async peer(role: 'scale' | 'instrument' | 'gps', ...args: string[]): Promise<ChildProcess> {
    const child = spawn('/usr/bin/python3', [PEER, role, this.peerPath, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.peers.push(child);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`peer ${role} did not start`)), 3000);
      child.stdout?.once('data', () => (clearTimeout(timer), resolve()));
      child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`peer ${role} exited with ${code}`))));
    });
    return child;
  }

  async close(): Promise<void> {
    await this.down();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A pair, up, closed by the test's cleanups: the start of every pty test. */
export async function ptyPairUp(cleanups: Array<() => unknown>): Promise<PtyPair> {
  const pair = new PtyPair();
  cleanups.push(() => pair.close());
  await pair.up();
  return pair;
}

/**
 * The site-file device `meter` polling peer.py's `instrument` on `path` (it answers "MEAS?"
 * with `volts,amps,count` in CSV): a test states only its settings (YAML values) and its tags.
 */
export function instrumentMeter(path: string, settings: Record<string, string>, tags: readonly string[]): string {
  const lines = Object.entries(settings).map(([key, yaml]) => `    ${key}: ${yaml}`);
  return `
  - name: meter
    driver: serial
${lines.join('\n')}
    connection:
      path: ${path}
      mode: poll
      request: "MEAS?\\r\\n"
      framing: { kind: delimiter, delimiter: "\\r\\n" }
      parse: { kind: csv }
    tags:
${tags.map((t) => `      - ${t}`).join('\n')}
`;
}
