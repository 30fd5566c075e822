// Runs every benchmark in its own process pinned to one core (the target is a small box) and
// prints one markdown table. Benchmarks that compare with Mosquitto and aedes report their
// figures in the same run, so the ratio columns compare like with like.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
// One-number benchmarks print JSON rows for the first table.
const BENCHES = ['pipeline.mjs', 'modbus.mjs'];
// These print their own tables (the broker one runs Mosquitto and aedes in the same run).
// BENCH_SKIP=broker,drain leaves some out; the drain pushes 1,000,000 records through Mosquitto.
const OWN_TABLES = [
  { name: 'broker', title: 'Local broker vs Mosquitto vs aedes (issue 3)', file: 'broker.mjs', pin: false },
  { name: 'append', title: 'Outbox durable appends vs raw better-sqlite3 (issue 4)', file: 'outbox-append.mjs', pin: true },
  { name: 'drain', title: 'Outbox drain to Mosquitto (issue 4)', file: 'drain-mosquitto.mjs', pin: false },
  { name: 'opcua-rss', title: 'Demo RSS with and without an OPC UA device (issue 7)', file: 'opcua-rss.mjs', pin: false },
  { name: 'footprint', title: 'Footprint: RSS, CPU and start-to-READY per site (issue 15)', file: 'footprint.mjs', pin: false },
];
const skip = new Set((process.env.BENCH_SKIP ?? '').split(',').filter(Boolean));

const pinned = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
const rows = [];
for (const file of BENCHES) {
  const cmd = pinned ? ['taskset', ['-c', '0', process.execPath, join(here, file)]] : [process.execPath, [join(here, file)]];
  const r = spawnSync(cmd[0], cmd[1], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) {
    process.stderr.write(`bench ${file} failed (exit ${r.status}):\n${r.stderr}\n`);
    process.exitCode = 1;
    continue;
  }
  for (const line of r.stdout.trim().split('\n')) rows.push(JSON.parse(line));
}

const fmt = (n) => (n === undefined ? 'n/a' : n >= 1000 ? n.toLocaleString('en-US') : String(n));
const ratio = (a, b) => (a === undefined || b === undefined ? 'n/a' : `${(a / b).toFixed(2)}x`);
const mib = (b) => (b === undefined ? 'n/a' : `${(b / 1048576).toFixed(1)} MiB`);

const out = [
  `fieldgate bench, node ${process.version}, ${pinned ? 'pinned to core 0 (taskset -c 0)' : 'NOT pinned (taskset missing)'}`,
  '',
  '| benchmark | fieldgate | unit | mosquitto | aedes | vs mosquitto | vs aedes | RSS | CPU | notes |',
  '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ...rows.map((r) =>
    `| ${r.name} | ${fmt(r.value)} | ${r.unit} | ${fmt(r.mosquitto)} | ${fmt(r.aedes)} | ${ratio(r.value, r.mosquitto)} | ${ratio(r.value, r.aedes)} | ${mib(r.rssBytes)} | ${r.cpuPercent ?? 'n/a'}% | ${r.detail ?? ''} |`,
  ),
];
process.stdout.write(out.join('\n') + '\n');

for (const b of OWN_TABLES) {
  if (skip.has(b.name)) continue;
  // The broker bench pins nothing itself: its load generators must not share the broker's core.
  const cmd = b.pin && pinned ? ['taskset', ['-c', '0', process.execPath, join(here, b.file)]] : [process.execPath, [join(here, b.file)]];
  const r = spawnSync(cmd[0], cmd[1], { encoding: 'utf8', timeout: 1_800_000 });
  process.stdout.write(`\n## ${b.title}\n\n`);
  if (r.status !== 0) {
    process.stdout.write(`failed (exit ${r.status}): ${r.stderr.split('\n').slice(-5).join(' ')}\n`);
    process.exitCode = 1;
    continue;
  }
  process.stdout.write(r.stdout.trim() + '\n');
}
