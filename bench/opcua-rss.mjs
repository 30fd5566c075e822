// Memory of the demo with and without one OPC UA device (issue 7): runs the built CLI on the
// demo config (HTTP endpoint off) for a few seconds, once as shipped and once with an OPC UA
// device subscribed to a node-opcua server in another process, and prints RSS from a probe
// loaded with --require (drivers/opcua/testing/module-probe.cjs). Needs `npm run build` first.
// usage: node bench/opcua-rss.mjs [seconds=8]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const seconds = Number(process.argv[2] ?? 8);
const dir = mkdtempSync(join(tmpdir(), 'fg-rss-'));
const probe = join(root, 'drivers', 'opcua', 'testing', 'module-probe.cjs');
const cli = join(root, 'dist', 'src', 'cli.js');
const demo = readFileSync(join(root, 'config', 'demo.yaml'), 'utf8').replace(/http: \{[^}]*\}/, 'http: { enabled: false }').replace('port: 1883', 'port: 0').replace('logSamples: true', 'logSamples: false');

function startServer() {
  const child = spawn(process.execPath, [join(root, 'drivers', 'opcua', 'testing', 'server.mjs'), JSON.stringify({ pki: join(dir, 'server-pki') })], { stdio: ['ignore', 'pipe', 'ignore'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.setEncoding('utf8').on('data', (d) => {
      buf += d;
      const line = buf.split('\n').find((l) => l.startsWith('{') && l.endsWith('}'));
      if (line) resolve({ child, endpoint: JSON.parse(line).endpoint });
    });
    child.on('exit', (c) => reject(new Error(`server exited ${c}`)));
  });
}

function measure(name, site) {
  const config = join(dir, `${name}.yaml`);
  const out = join(dir, `${name}.json`);
  writeFileSync(config, site);
  const child = spawn(process.execPath, ['--require', probe, cli, 'run', '--config', config], { cwd: dir, env: { ...process.env, FG_PROBE_OUT: out }, stdio: ['ignore', 'pipe', 'ignore'] });
  let online = 0;
  child.stdout.setEncoding('utf8').on('data', (d) => (online += d.split('\n').filter((l) => l.includes('"msg":"device online"')).length));
  const timer = setTimeout(() => child.kill('SIGTERM'), seconds * 1000);
  return new Promise((resolve) => child.on('exit', () => (clearTimeout(timer), resolve({ ...JSON.parse(readFileSync(out, 'utf8')), online }))));
}

const server = await startServer();
try {
  const without = await measure('demo', demo);
  const withOpcua = await measure('demo-opcua', `${demo}
  - name: plc-01
    driver: opcua
    timeout: 10s
    connection: { endpoint: '${server.endpoint}', pki: ${join(dir, 'client-pki')}, publishingInterval: 500ms }
    tags:
      - { name: counter, type: uint32, nodeId: 'ns=1;s=Counter' }
      - { name: flow, nodeId: 'ns=1;s=Flow' }
      - { name: setpoint, nodeId: 'ns=1;s=Setpoint', writable: true }
      - { name: mode, type: string, nodeId: 'ns=1;s=Mode' }
`);
  const mib = (kib) => `${(kib / 1024).toFixed(1)} MiB`;
  console.log(`node ${process.version}, demo run ${seconds} s each`);
  console.log(`| site | devices online | node-opcua modules loaded | peak RSS | RSS at exit |`);
  console.log(`| --- | --- | --- | --- | --- |`);
  console.log(`| demo (2 simulator devices) | ${without.online} | ${without.opcuaModules} | ${mib(without.maxRssKiB)} | ${mib(without.rss / 1024)} |`);
  console.log(`| demo + 1 OPC UA device (4 monitored items) | ${withOpcua.online} | ${withOpcua.opcuaModules} | ${mib(withOpcua.maxRssKiB)} | ${mib(withOpcua.rss / 1024)} |`);
} finally {
  server.child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
