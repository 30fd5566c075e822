// The host's ingest alone (issue 14, item 3): decode, lifecycle, dedup, series memory, batches,
// SQLite, in one process without MQTT, to profile what the host itself costs per sample.
// samplesPerCpuSecond divides by the CPU time used, so a shared box's load matters less.
// Run:  npx tsc -p tsconfig.json && node bench/host-ingest.mjs   (FG_SAMPLES, FG_NODES, FG_METRICS)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DedupLedger } from '../dist/src/host/dedup-ledger.js';
import { Ingest } from '../dist/src/host/ingest.js';
import { Lifecycle } from '../dist/src/host/lifecycle.js';
import { SeriesMemory } from '../dist/src/host/series-memory.js';
import { SqliteHistory } from '../dist/src/host/sqlite-history.js';
import { silentLogger } from '../dist/src/observe/logger.js';
import { encodePayload } from '../dist/src/sparkplug/payload.js';

const NODES = Number(process.env.FG_NODES ?? 100);
const METRICS = Number(process.env.FG_METRICS ?? 50);
const SAMPLES = Number(process.env.FG_SAMPLES ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'fg-bench-ingest-'));
const store = new SqliteHistory(join(dir, 'h.db'));
const ingest = new Ingest({
  store,
  lifecycle: new Lifecycle(),
  ledger: new DedupLedger(),
  series: new SeriesMemory(),
  logger: silentLogger(),
  maxSamples: 5000,
  maxDelayMs: 20,
  rebirth: () => undefined,
  committed: () => undefined,
  releaseAcks: () => undefined,
});
for (let i = 0; i < NODES; i++) {
  const metrics = [{ name: 'bdSeq', type: 8, value: 0n }];
  for (let m = 0; m < METRICS; m++) metrics.push({ name: `m${m}`, alias: m + 1, type: 10, value: 0, timestamp: 1 });
  ingest.message(`spBv1.0/bench/NBIRTH/n${i}`, Buffer.from(encodePayload({ timestamp: 1, seq: 0, metrics })), undefined);
}
const messages = Math.ceil(SAMPLES / METRICS);
const payloads = [];
const seqs = new Array(NODES).fill(1);
const t = 1_700_000_000_000;
for (let k = 0; k < messages; k++) {
  const n = k % NODES;
  const metrics = [];
  for (let m = 0; m < METRICS; m++) metrics.push({ alias: m + 1, type: 10, writeDatatype: false, value: k + m * 0.5, timestamp: t + k });
  payloads.push([`spBv1.0/bench/NDATA/n${n}`, Buffer.from(encodePayload({ timestamp: t + k, seq: seqs[n], metrics })), { 'fg-dedup': `bench/n${n}/e1/${Math.floor(k / NODES) + 1}` }]);
  seqs[n] = (seqs[n] + 1) % 256;
}
await ingest.flush();
const t0 = performance.now();
const c0 = process.cpuUsage();
for (let k = 0; k < payloads.length; k++) {
  const [topic, payload, props] = payloads[k];
  ingest.message(topic, payload, props);
  if (k % 100 === 99) await new Promise((r) => setImmediate(r));
}
await ingest.flush();
const s = (performance.now() - t0) / 1000;
const c = process.cpuUsage(c0);
const cpu = (c.user + c.system) / 1e6;
console.log(JSON.stringify({ samples: ingest.stats.stored, commits: ingest.stats.commits, samplesPerSecond: Math.round(ingest.stats.stored / s), samplesPerCpuSecond: Math.round(ingest.stats.stored / cpu) }));
await store.close();
rmSync(dir, { recursive: true, force: true });
