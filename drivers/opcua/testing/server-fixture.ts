// Test fixture: node-opcua's OPCUAServer (testing/server.mjs) in a child process on loopback, its
// certificates in a temp dir. node-opcua writes its own warnings to stdout, so the ready line
// is the first line that parses as JSON.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('./server.mjs', import.meta.url));

export interface ServerInfo {
  endpoint: string;
  port: number;
  certificate: string;
}

export class OpcuaTestServer {
  private child: ChildProcess | undefined;
  info: ServerInfo | undefined;

  constructor(private readonly options: { pki: string; users?: Record<string, string>; port?: number }) {}

  async start(port = this.info?.port ?? this.options.port ?? 0): Promise<ServerInfo> {
    const child = spawn(process.execPath, [SERVER, JSON.stringify({ ...this.options, port })], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const output: string[] = [];
    child.stderr?.setEncoding('utf8').on('data', (d: string) => output.push(d));
    this.info = await new Promise<ServerInfo>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`OPC UA test server did not start in 20 s:\n${output.join('').slice(-2000)}`)), 20_000);
      let buf = '';
      child.stdout?.setEncoding('utf8').on('data', (d: string) => {
        buf += d;
        for (const line of buf.split('\n')) {
          if (!line.startsWith('{')) continue;
          try {
            const info = JSON.parse(line) as ServerInfo;
            clearTimeout(timer);
            resolve(info);
          } catch {
            // a partial line: wait for the rest
          }
        }
      });
      child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`OPC UA test server exited with ${code}:\n${output.join('').slice(-2000)}`))));
    });
    return this.info;
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
}
