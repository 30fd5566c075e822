// Runs every benchmark in its own process pinned to one core (the target is a small box) and
// prints one markdown table. Benchmarks that compare with Mosquitto and aedes report their
// figures in the same run, so the ratio columns compare like with like.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const BENCHES = ['pipeline.mjs', 'modbus.mjs'];

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
