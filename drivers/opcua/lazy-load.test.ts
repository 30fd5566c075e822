// node-opcua costs ~100 MB RSS and half a second: the gateway must load it only when an OPC UA
// device is configured (issue 7). The built CLI runs the demo with a probe that lists, at exit,
// every node-opcua module in the process; a site with an OPC UA device is the positive control.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, ROOT } from '../../test/helpers/cli.js';

const PROBE = fileURLToPath(new URL('./testing/module-probe.cjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'fg-lazy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The demo as shipped, with its HTTP endpoint off and its broker on a free port, so parallel
// test runs do not fight over 8080 and 1883.
const demo = readFileSync(join(ROOT, 'config', 'demo.yaml'), 'utf8').replace(/http: \{[^}]*\}/, 'http: { enabled: false }').replace('port: 1883', 'port: 0');

interface Probe {
  opcuaModules: number;
  sample: string[];
  /** serialport, modbus-serial, mqtt: the packages loaded only for a site that uses them. */
  optional: string[];
  /** Whether Node's bundled undici was loaded. */
  undici: boolean;
  /** Node's own modules loaded (process.moduleLoadList). */
  builtins: string[];
  maxRssKiB: number;
}

/** Runs the gateway until a log line matches, then SIGTERM; returns what the probe saw. */
function runGateway(name: string, site: string, readyMsg: RegExp): Promise<Probe> {
  const config = join(dir, `${name}.yaml`);
  const out = join(dir, `${name}.json`);
  writeFileSync(config, site);
  const child = spawn(process.execPath, ['--require', PROBE, CLI, 'run', '--config', config], {
    cwd: dir,
    env: { ...process.env, FG_PROBE_OUT: out },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const seen: string[] = [];
  let stopping = false;
  return new Promise<Probe>((resolve, reject) => {
    const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error(`no "${readyMsg}" within 30 s:\n${seen.slice(-10).join('\n')}`))), 30_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      seen.push(d);
      // One SIGTERM only: a second one, once the CLI has removed its handler, would kill the
      // process before its exit handlers (and the probe) run.
      if (!stopping && readyMsg.test(d)) {
        stopping = true;
        child.kill('SIGTERM');
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => seen.push(d));
    child.on('exit', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(readFileSync(out, 'utf8')) as Probe);
      } catch (e) {
        reject(new Error(`probe wrote nothing: ${String(e)}\n${seen.slice(-10).join('\n')}`));
      }
    });
  });
}

describe('node-opcua is loaded only for OPC UA devices', () => {
  it('the demo (no OPC UA device) runs without loading a single node-opcua module', async () => {
    const probe = await runGateway('demo', demo, /"msg":"device online"/);
    expect(probe.opcuaModules).toBe(0);
    // Nor serialport (the `serial listen` command once imported it at the top), modbus-serial
    // or mqtt.js: the demo has no serial port, no Modbus device and no upstream (issue 15).
    expect(probe.optional).toEqual([]);
    // Nor Node's undici: on Node 26 an ESM `import ... from 'node:http'` reads http.WebSocket,
    // whose getter loads undici and TLS with it, +16 MiB RSS (issue 15). Built-ins whose facade
    // has such getters are taken through process.getBuiltinModule.
    expect(probe.undici).toBe(false);
    // Nor node:https and node:tls: the observe endpoint takes them only with `tls:` set, the
    // broker only for a TLS or WebSocket listener (issue 15: ~0.5 MiB and start time).
    expect(probe.builtins.filter((m) => m === 'https' || m === 'tls')).toEqual([]);
  }, 40_000);

  it('positive control: the same site plus one OPC UA device loads node-opcua', async () => {
    const withOpcua = `${demo}
  - name: plc-01
    driver: opcua
    timeout: 5s
    connection: { endpoint: 'opc.tcp://127.0.0.1:1', pki: ${join(dir, 'pki')} }
    tags:
      - { name: x, nodeId: 'ns=1;s=X' }
`;
    const probe = await runGateway('opcua', withOpcua, /"device":"plc-01".*"msg":"device connect failed"/);
    expect(probe.opcuaModules).toBeGreaterThan(20);
    expect(probe.sample.join(' ')).toMatch(/node-opcua/);
  }, 40_000); // loading node-opcua takes ~1 s on a quiet machine, 10 s and more on a loaded one
});
