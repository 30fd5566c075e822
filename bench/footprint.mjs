// Footprint on a small box (issue 15): RSS steady and peak, CPU, and start-to-READY of the built
// gateway, pinned to core 0 (taskset), for the sites that decide where fieldgate fits: the demo,
// one and four OPC UA devices, 50 Modbus devices x 100 tags; then where the memory goes (V8 heap
// spaces and the CommonJS packages loaded, from bench/footprint-probe.cjs). The broker under the
// broker bench's load, beside Mosquitto and aedes, is bench/broker.mjs (FOOTPRINT_BROKER=1 runs
// its 64-byte cases here too). Peers (the node-opcua server, the Modbus server) run on core 1.
// Needs `npm run build`. usage: node bench/footprint.mjs [seconds=20]
//   FOOTPRINT_ONLY=demo,opcua1,opcua4,modbus50   FIELDGATE_NODE_FLAGS='...' (default: the wrapper's)
//   MALLOC_ARENA_MAX=N (default: the wrapper's)
//   FOOTPRINT_DEB=pkg/out/fieldgate_<v>_amd64.deb  measure what ships: that package's runtime and app
//   FOOTPRINT_TREE=DIR  the same from a package already unpacked there (dpkg-deb -x), e.g. one
//                       whose app/ was changed by hand to try something
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.argv[2] ?? 20);
const ONLY = process.env.FOOTPRINT_ONLY?.split(',');
const NODE_FLAGS = process.env.FIELDGATE_NODE_FLAGS?.split(' ').filter(Boolean) ?? defaultNodeFlags();
const PIN = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
const onCore = (core, cmd, args) => (PIN ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args]);
const probe = join(root, 'bench', 'footprint-probe.cjs');
const dir = mkdtempSync(join(tmpdir(), 'fg-footprint-'));
let node = process.execPath;
let cli = join(root, 'dist', 'src', 'cli.js');
if (process.env.FOOTPRINT_DEB || process.env.FOOTPRINT_TREE) {
  const tree = process.env.FOOTPRINT_TREE ?? join(dir, 'deb');
  if (!process.env.FOOTPRINT_TREE && spawnSync('dpkg-deb', ['-x', process.env.FOOTPRINT_DEB, tree]).status !== 0) throw new Error(`cannot unpack ${process.env.FOOTPRINT_DEB}`);
  node = join(tree, 'usr/lib/fieldgate/node/bin/node');
  cli = join(tree, 'usr/lib/fieldgate/app/dist/src/cli.js');
}
const nodeVersion = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
// The wrapper's MALLOC_ARENA_MAX as well, unless the environment sets one.
const wrapperArenas = /MALLOC_ARENA_MAX:-(\d+)/.exec(readFileSync(join(root, 'pkg', 'fieldgate.sh'), 'utf8'))?.[1];
const GATEWAY_ENV = { ...(wrapperArenas !== undefined ? { MALLOC_ARENA_MAX: wrapperArenas } : {}), ...process.env };
const TICK = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on Linux

/** The flags the package's wrapper passes (pkg/fieldgate.sh), so the bench measures what ships. */
function defaultNodeFlags() {
  const wrapper = readFileSync(join(root, 'pkg', 'fieldgate.sh'), 'utf8');
  const m = /node\/bin\/node\s+((?:--\S+\s+)*)/.exec(wrapper);
  return m ? m[1].trim().split(/\s+/).filter(Boolean) : [];
}

const unixDgram = createRequire(import.meta.url)('unix-dgram');

function procStat(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return { rssKiB: kib('VmRSS'), hwmKiB: kib('VmHWM'), cpuTicks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

/** Runs the gateway on `site` for SECONDS: READY time from systemd's notify socket, RSS sampled. */
async function measure(name, site) {
  const config = join(dir, `${name}.yaml`);
  const probeOut = join(dir, `${name}.probe.json`);
  const notify = join(dir, `${name}.notify`);
  writeFileSync(config, site);
  const sock = unixDgram.createSocket('unix_dgram');
  let readyAt;
  sock.on('message', (buf) => { if (/^READY=1$/m.test(buf.toString()) && readyAt === undefined) readyAt = performance.now(); });
  sock.bind(notify);
  const started = performance.now();
  const child = spawn(...onCore(0, node, [...NODE_FLAGS, '--require', probe, cli, 'run', '--config', config]), {
    cwd: dir, env: { ...GATEWAY_ENV, FG_PROBE_OUT: probeOut, NOTIFY_SOCKET: notify }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let online = 0, errors = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (online += d.split('\n').filter((l) => l.includes('"msg":"device online"')).length));
  child.stderr.setEncoding('utf8').on('data', (d) => (errors += d));
  const samples = [];
  const sampler = setInterval(() => { const s = procStat(child.pid); if (s) samples.push({ t: performance.now() - started, ...s }); }, 250);
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  clearInterval(sampler);
  const last = samples.at(-1);
  child.kill('SIGTERM');
  const code = await new Promise((r) => child.once('exit', (c) => r(c)));
  sock.close();
  if (!existsSync(probeOut)) throw new Error(`${name}: the gateway exited ${code} without its probe: ${errors.slice(-500)}`);
  const heap = JSON.parse(readFileSync(probeOut, 'utf8'));
  // Steady: the mean over the last third of the run; CPU over the same window.
  const tail = samples.filter((s) => s.t >= (SECONDS * 1000 * 2) / 3);
  const steadyKiB = tail.reduce((a, s) => a + s.rssKiB, 0) / Math.max(1, tail.length);
  const cpu = tail.length > 1 ? ((tail.at(-1).cpuTicks - tail[0].cpuTicks) / TICK) / ((tail.at(-1).t - tail[0].t) / 1000) : NaN;
  return { name, online, readyMs: readyAt === undefined ? NaN : readyAt - started, steadyMiB: steadyKiB / 1024, peakMiB: last.hwmKiB / 1024, cpuPercent: cpu * 100, heap };
}

function startPeer(args, readyLine) {
  const child = spawn(...onCore(1, process.execPath, args), { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.setEncoding('utf8').on('data', (d) => {
      buf += d;
      const line = buf.split('\n').find(readyLine);
      if (line) resolve({ child, line });
    });
    child.on('exit', (c) => reject(new Error(`peer ${args[0]} exited ${c}`)));
  });
}

const quiet = (yaml) => yaml
  .replace(/http: \{[^}]*\}/, 'http: { host: 127.0.0.1, port: 0 }')
  .replace('port: 1883', 'port: 0')
  .replace('logSamples: true', 'logSamples: false');
const demo = quiet(readFileSync(join(root, 'config', 'demo.yaml'), 'utf8'));
const header = (name) => `version: 1\nsite: { group: bench, node: ${name} }\nobserve: { http: { host: 127.0.0.1, port: 0 } }\nstore: { path: ./${name}.db }\ndevices:\n`;

const scenarios = {
  demo: async () => measure('demo', demo),
  opcua1: async () => opcua(1),
  opcua4: async () => opcua(4),
  modbus50: async () => modbus(50, 100),
};

async function opcua(n) {
  const server = await startPeer([join(root, 'drivers', 'opcua', 'testing', 'server.mjs'), JSON.stringify({ pki: join(dir, 'server-pki') })], (l) => l.startsWith('{') && l.endsWith('}'));
  try {
    const { endpoint } = JSON.parse(server.line);
    let site = header(`opcua${n}`);
    for (let i = 0; i < n; i++) {
      site += `  - name: plc-${i}\n    driver: opcua\n    timeout: 10s\n    connection: { endpoint: '${endpoint}', pki: ${join(dir, 'client-pki')}, publishingInterval: 500ms }\n    tags:\n`
        + `      - { name: counter, type: uint32, nodeId: 'ns=1;s=Counter' }\n      - { name: flow, type: float64, nodeId: 'ns=1;s=Flow' }\n`
        + `      - { name: setpoint, type: float64, nodeId: 'ns=1;s=Setpoint', writable: true }\n      - { name: mode, type: string, nodeId: 'ns=1;s=Mode' }\n`;
    }
    return await measure(`opcua${n}`, site);
  } finally {
    server.child.kill('SIGTERM');
  }
}

async function modbus(devices, tags) {
  const peer = join(root, 'bench', 'footprint-modbus-peer.mjs');
  const server = await startPeer([peer, String(devices)], (l) => l.startsWith('port '));
  try {
    const port = Number(server.line.split(' ')[1]);
    let site = header(`modbus${devices}`);
    for (let d = 0; d < devices; d++) {
      site += `  - name: meter-${d}\n    driver: modbus\n    pollInterval: 1s\n    connection: { host: 127.0.0.1, port: ${port}, unitId: ${d + 1} }\n    tags:\n`;
      for (let t = 0; t < tags; t++) site += `      - { name: r${t}, table: holding, address: ${t}, type: uint16 }\n`;
    }
    return await measure(`modbus${devices}`, site);
  } finally {
    server.child.kill('SIGTERM');
  }
}

const rows = [];
try {
  for (const [name, run] of Object.entries(scenarios)) {
    if (ONLY && !ONLY.includes(name)) continue;
    rows.push(await run());
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const f1 = (n) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');
console.log(`${nodeVersion}${process.env.FOOTPRINT_DEB || process.env.FOOTPRINT_TREE ? ' (from the package)' : ''}, ${PIN ? 'gateway pinned to core 0' : 'NOT pinned'}, ${SECONDS} s per site, node flags: ${NODE_FLAGS.join(' ') || '(none)'}, MALLOC_ARENA_MAX=${GATEWAY_ENV.MALLOC_ARENA_MAX ?? '(unset)'}\n`);
console.log('| site | devices online | start to READY ms | steady RSS MiB | peak RSS MiB | CPU % of one core |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) console.log(`| ${r.name} | ${r.online} | ${f1(r.readyMs)} | ${f1(r.steadyMiB)} | ${f1(r.peakMiB)} | ${f1(r.cpuPercent)} |`);
for (const r of rows) {
  const h = r.heap;
  console.log(`\n${r.name}: heap used ${f1(h.heap.used_heap_size / 1048576)} of ${f1(h.heap.total_heap_size / 1048576)} MiB, external ${f1(h.external / 1048576)} MiB; `
    + `spaces ${h.spaces.map((s) => `${s.name.replace('_space', '')} ${f1(s.size / 1048576)}`).join(', ')}; `
    + `CommonJS packages by source size (KiB): ${h.packages.slice(0, 8).map((p) => `${p.name} ${Math.round(p.bytes / 1024)} (${p.files})`).join(', ')}`);
}
