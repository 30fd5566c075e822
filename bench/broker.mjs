// Broker benchmark (issue 3): fieldgate vs Debian's Mosquitto vs aedes (npm), same machine, same
// run, same load generator. `npm run bench` (builds first); BENCH_SECONDS=3 per case by default,
// BENCH_ONLY=fieldgate,aedes to limit the brokers, BENCH_REPEAT=3 for medians, BENCH_QOS=1, BENCH_SIZES=64. Prints msgs/s (measured at the subscribers)
// and peak broker RSS, with ratios, as a Markdown table. BENCH_BUNDLE=1 runs fieldgate's broker
// bundled as the package ships it (see fieldgateEntry below).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleBroker } from './lib/bundled-broker.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 1);
const ONLY = process.env.BENCH_ONLY?.split(',');
let nextPort = 21_000 + Math.floor(Math.random() * 20_000);

// Every broker runs pinned to core 0 (the small-box target); the load generators get core 1,
// so they are never what limits the rate. taskset execs the program: the pid is the broker's.
const PIN = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
const onCore = (core, cmd, args) => (PIN ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args]);

// BENCH_BUNDLE=1 (issue 15): fieldgate's broker bundled as the .deb ships its code
// (lib/bundled-broker.mjs, pkg/bundle.mjs's esbuild options) instead of tsc's dist/. The runtime
// and its flags stay the caller's (node, FIELDGATE_NODE_FLAGS).
async function fieldgateEntry() {
  const plain = join(here, 'fieldgate-broker.mjs');
  if (!process.env.BENCH_BUNDLE || process.env.BENCH_BUNDLE === '0') return { entry: plain, label: "tsc's dist/ (one file per module)" };
  const dir = mkdtempSync(join(tmpdir(), 'fg-bench-bundle-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const b = await bundleBroker(dir);
  const label = `esbuild bundle (pkg/bundle.mjs), ${b.files} files, ${b.kib} KiB${b.external.length ? `, external: ${b.external.join(' ')}` : ''}`;
  console.error(`fieldgate: ${label}`);
  return { entry: b.entry, label };
}
const fieldgate = ONLY === undefined || ONLY.includes('fieldgate') ? await fieldgateEntry() : undefined;

const BROKERS = [
  {
    name: 'fieldgate',
    // FIELDGATE_NODE_FLAGS, e.g. `--max-semi-space-size=2`, to measure V8 heap settings.
    spawn: (port) => spawn(...onCore(0, process.execPath, [...(process.env.FIELDGATE_NODE_FLAGS?.split(' ').filter(Boolean) ?? []), fieldgate.entry, String(port)]), { stdio: ['ignore', 'pipe', 'inherit'] }),
  },
  {
    name: 'mosquitto',
    spawn: (port) => {
      const dir = mkdtempSync(join(tmpdir(), 'fg-bench-mosq-'));
      const conf = join(dir, 'mosquitto.conf');
      // Unlimited in-flight and queue: Mosquitto's defaults (20 / 1000) silently drop a fast QoS 1 stream.
      writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\nmax_inflight_messages 0\nmax_queued_messages 0\n`);
      return spawn(...onCore(0, 'mosquitto', ['-c', conf]), { stdio: ['ignore', 'pipe', 'inherit'] });
    },
  },
  { name: 'aedes', spawn: (port) => spawn(...onCore(0, process.execPath, [join(here, 'aedes-broker.mjs'), String(port)]), { stdio: ['ignore', 'pipe', 'inherit'] }) },
].filter((b) => ONLY === undefined || ONLY.includes(b.name));

const CASES = [];
const QOS = process.env.BENCH_QOS?.split(',').map(Number) ?? [0, 1];
const SIZES = process.env.BENCH_SIZES?.split(",").map(Number) ?? [64, 1024];
for (const qos of QOS) for (const clients of [1, 10]) for (const size of SIZES) CASES.push({ qos, clients, size });

function rssKiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

async function waitForPort(port, ms = 5000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listening on ${port}`);
}

function worker(args) {
  const child = spawn(...onCore(1, process.execPath, [join(here, 'load.mjs'), ...args.map(String)]), { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const lines = [];
  const waiters = [];
  child.stdout.setEncoding('utf8').on('data', (d) => {
    out += d;
    const parts = out.split('\n');
    out = parts.pop();
    for (const l of parts) {
      lines.push(l);
      for (const w of waiters.splice(0)) w();
    }
  });
  const line = async (pred) => {
    for (let i = 0; i < 10_000; i++) {
      const found = lines.find(pred);
      if (found !== undefined) return found;
      await new Promise((r) => waiters.push(r));
    }
    throw new Error('worker gave no answer');
  };
  return { child, line };
}

const debug = process.env.BENCH_DEBUG ? (...a) => console.error('[bench]', ...a) : () => undefined;

async function runCase(broker, c) {
  const port = nextPort++;
  debug(broker.name, c, 'port', port);
  const proc = broker.spawn(port);
  await waitForPort(port);
  const sub = worker(['sub', port, c.clients, c.qos, c.size, SECONDS]);
  await sub.line((l) => l === 'ready');
  debug('subscribers ready');
  let peak = rssKiB(proc.pid);
  const sampler = setInterval(() => (peak = Math.max(peak, rssKiB(proc.pid))), 100);
  sub.child.stdin.write('go\n');
  const pub = worker(['pub', port, c.clients, c.qos, c.size, SECONDS]);
  const pubResult = JSON.parse(await pub.line((l) => l.startsWith('{')));
  debug('publishers done', pubResult);
  await new Promise((r) => setTimeout(r, 300)); // let in-flight messages land
  sub.child.stdin.write('stop\n');
  const subResult = JSON.parse(await sub.line((l) => l.startsWith('{')));
  clearInterval(sampler);
  peak = Math.max(peak, rssKiB(proc.pid));
  proc.kill('SIGTERM');
  await new Promise((r) => proc.once('exit', r));
  return { rate: subResult.messages / pubResult.seconds, sent: pubResult.messages, received: subResult.messages, rssMiB: peak / 1024 };
}

const fmt = (n) => (n >= 1000 ? `${(n / 1000).toFixed(1)}k` : n.toFixed(0));
const ratio = (a, b) => (b > 0 ? `${(a / b).toFixed(2)}x` : '-');

const rows = [];
for (const c of CASES) {
  const r = {};
  // BENCH_REPEAT runs of each broker, interleaved; the median rate and the highest RSS are kept
  // (the machine is shared: single runs vary by 2x).
  const runs = {};
  for (let i = 0; i < REPEAT; i++) for (const b of BROKERS) (runs[b.name] ??= []).push(await runCase(b, c));
  for (const b of BROKERS) {
    const sorted = [...runs[b.name]].sort((x, y) => x.rate - y.rate);
    r[b.name] = { ...sorted[Math.floor(sorted.length / 2)], rssMiB: Math.max(...sorted.map((x) => x.rssMiB)), rates: sorted.map((x) => x.rate), rssRuns: runs[b.name].map((x) => x.rssMiB) };
  }
  rows.push({ c, r });
  const label = `QoS ${c.qos}, ${c.clients}->${c.clients}, ${c.size} B`;
  console.error(`${label}: ${BROKERS.map((b) => `${b.name} ${fmt(r[b.name].rate)}/s (${r[b.name].received}/${r[b.name].sent}) ${r[b.name].rssMiB.toFixed(0)} MiB (runs ${r[b.name].rssRuns.map((x) => x.toFixed(1)).join('/')})`).join(' | ')}`);
}

const has = (n) => BROKERS.some((b) => b.name === n);
console.log(`\n${SECONDS} s per case, median of ${REPEAT}; msgs/s received by the subscribers; RSS = broker peak.${fieldgate ? ` fieldgate: node ${process.version}, ${fieldgate.label}, flags: ${process.env.FIELDGATE_NODE_FLAGS || 'none'}.` : ''}\n`);
console.log(`| case | ${BROKERS.map((b) => `${b.name} msgs/s`).join(' | ')} | ${BROKERS.map((b) => `${b.name} RSS MiB`).join(' | ')} |${has('mosquitto') ? ' rate vs mosquitto |' : ''}${has('aedes') ? ' rate vs aedes | RSS vs aedes |' : ''}`);
console.log(`|${' --- |'.repeat(1 + BROKERS.length * 2 + (has('mosquitto') ? 1 : 0) + (has('aedes') ? 2 : 0))}`);
for (const { c, r } of rows) {
  const f = r.fieldgate;
  const cells = [`QoS ${c.qos}, ${c.clients}->${c.clients}, ${c.size} B`, ...BROKERS.map((b) => fmt(r[b.name].rate)), ...BROKERS.map((b) => r[b.name].rssMiB.toFixed(0))];
  if (has('mosquitto') && f) cells.push(ratio(f.rate, r.mosquitto.rate));
  if (has('aedes') && f) cells.push(ratio(f.rate, r.aedes.rate), ratio(f.rssMiB, r.aedes.rssMiB));
  console.log(`| ${cells.join(' | ')} |`);
}
