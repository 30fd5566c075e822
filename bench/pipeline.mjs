// Samples/s through the runtime's tag pipeline: scaling, range check, deadband and
// report-by-exception, exactly the code a poll's readings go through (TagState.accept).
// Prints one JSON line for bench/run.mjs.
import { TagState } from '../dist/src/runtime/tag-state.js';

const TAGS = 1000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2000);

const tags = Array.from({ length: TAGS }, (_, i) =>
  new TagState('bench', {
    name: `t${i}`,
    type: i % 2 === 0 ? 'int16' : 'float32',
    scale: i % 2 === 0 ? 0.1 : 1,
    offset: 0,
    writable: false,
    deadband: i % 3 === 0 ? '1%' : 0.5,
    range: i % 3 === 0 ? { min: -1000, max: 1000 } : undefined,
  }, 60_000),
);

// Every value moves each round; the deadbands hold part of them back (the share is printed).
const raw = (i, r) => (i % 2 === 0 ? Math.round(1000 * Math.sin(r / 50 + i)) : 100 * Math.sin(r / 50 + i));

let updates = 0;
const sink = [];
function round(r, now) {
  for (let i = 0; i < TAGS; i++) {
    const u = tags[i].accept({ tag: `t${i}`, value: raw(i, r), quality: 'GOOD' }, now);
    if (u !== undefined) sink.push(u);
  }
  updates += sink.length;
  sink.length = 0;
}

for (let r = 0; r < 200; r++) round(r, r); // warm-up: let V8 optimise the hot path
updates = 0;
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
for (let r = 0; r < ROUNDS; r++) round(r + 200, r + 200);
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const cpu = process.cpuUsage(cpu0);
const samples = TAGS * ROUNDS;
console.log(
  JSON.stringify({
    name: `tag pipeline: scale + deadband + RBE (${TAGS} tags)`,
    value: Math.round(samples / seconds),
    unit: 'samples/s',
    detail: `${Math.round((100 * updates) / samples)}% reported`,
    rssBytes: process.memoryUsage.rss(),
    cpuPercent: Math.round((100 * (cpu.user + cpu.system)) / 1e6 / seconds),
  }),
);
