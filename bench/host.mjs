// `fieldgate host` ingest bench (issue 14): a fleet of N light Sparkplug edge nodes in one
// process (MQTT 5, fg dedup keys) → Debian's mosquitto → `fieldgate host run` (a child pinned to
// core 0) → SQLite. Beside it, in the same run and on the same core, raw better-sqlite3 inserts
// of the same number of rows into the same table layout. Then the p99 device-to-stored latency
// at 1,000 samples/s, measured to the host's confirmation (published after the commit, so it
// is an upper bound of device-to-stored).
// Run:  npx tsc -p tsconfig.json && node bench/host.mjs
// Env: FG_NODES (100), FG_METRICS (50 per message), FG_SAMPLES (2,000,000), FG_RATE_SECONDS (10),
//      FG_PIN=0 to leave the cores unpinned.
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import Database from 'better-sqlite3';
import { encodePayload } from '../dist/src/sparkplug/payload.js';
import { freePort, waitPort } from './lib/net.mjs';

const NODES = Number(process.env.FG_NODES ?? 100);
const METRICS = Number(process.env.FG_METRICS ?? 50);
const SAMPLES = Number(process.env.FG_SAMPLES ?? 2_000_000);
const RATE_SECONDS = Number(process.env.FG_RATE_SECONDS ?? 10);
const PIN = process.env.FG_PIN !== '0' && spawnSync('taskset', ['-V']).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'fg-bench-host-'));
const CLI = new URL('../dist/src/cli.js', import.meta.url).pathname;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const pinned = (core, cmd, args) => (PIN ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args]);

function rawInserts(file, rows, perStatement = 64) {
  // The same layout, settings and statement shape the host uses (src/host/sqlite-history.ts):
  // WAL, synchronous FULL, one transaction per 5,000 rows (host.batch.maxSamples), 64 rows per
  // INSERT. The best of three runs: a short run on a shared box is easily hit by a load spike,
  // and the best raw figure makes the ratio the harder one to meet.
  const code = `
    const Database = require(${JSON.stringify(new URL('../node_modules/better-sqlite3/lib/index.js', import.meta.url).pathname)});
    let best = 0;
    let bestCpu = 0;
    for (let run = 0; run < 3; run++) {
      const file = ${JSON.stringify(file)} + ${perStatement} + '-' + run;
      const db = new Database(file);
      db.pragma('journal_mode = WAL'); db.pragma('synchronous = FULL');
      db.exec('CREATE TABLE sample (series INTEGER NOT NULL, ts INTEGER NOT NULL, value, quality INTEGER NOT NULL, historical INTEGER NOT NULL)');
      const one = db.prepare('INSERT INTO sample (series, ts, value, quality, historical) VALUES (?, ?, ?, ?, ?)');
      const many = db.prepare('INSERT INTO sample (series, ts, value, quality, historical) VALUES ' + Array.from({ length: ${perStatement} }, () => '(?, ?, ?, ?, ?)').join(', '));
      const batch = db.transaction((from, n) => {
        const args = [];
        for (let i = from; i < from + n; i++) {
          args.push(i % ${NODES * METRICS}, 1700000000000 + i, i * 0.5, 192, 0);
          if (args.length === ${perStatement * 5}) { many.run(args); args.length = 0; }
        }
        for (let j = 0; j < args.length; j += 5) one.run(args.slice(j, j + 5));
      });
      const t0 = process.hrtime.bigint();
      const c0 = process.cpuUsage();
      for (let i = 0; i < ${rows}; i += 5000) batch(i, Math.min(5000, ${rows} - i));
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      const c = process.cpuUsage(c0);
      best = Math.max(best, ${rows} / s);
      bestCpu = Math.max(bestCpu, ${rows} / ((c.user + c.system) / 1e6));
      db.close();
    }
    process.stdout.write(JSON.stringify([best, bestCpu]));`;
  const [cmd, args] = pinned(0, process.execPath, ['-e', code]);
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

// A throwaway PostgreSQL cluster (as test/helpers/postgres.ts): initdb refuses root, so as root
// it runs as Debian's postgres account.
async function startPostgres() {
  const bin = join('/usr/lib/postgresql', readdirSync('/usr/lib/postgresql').sort((a, b) => b - a)[0], 'bin');
  const pdir = mkdtempSync(join(tmpdir(), 'fg-bench-pg-'));
  const asUser = process.getuid() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
  if (asUser.length > 0) chownSync(pdir, Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout), Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout));
  const run = (cmd, args) => {
    const [c, ...a] = [...asUser, join(bin, cmd), ...args];
    const r = spawnSync(c, a, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
  };
  const port = await freePort();
  run('initdb', ['-D', join(pdir, 'data'), '-A', 'trust', '-U', 'fieldgate', '--no-sync']);
  run('pg_ctl', ['-D', join(pdir, 'data'), '-w', '-l', join(pdir, 'log'), '-o', `-p ${port} -k ${pdir} -c listen_addresses=127.0.0.1`, 'start']);
  return {
    url: `postgres://fieldgate@127.0.0.1:${port}/postgres`,
    port,
    dir: pdir,
    stop: () => {
      const [c, ...a] = [...asUser, join(bin, 'pg_ctl'), '-D', join(pdir, 'data'), '-m', 'immediate', '-w', 'stop'];
      spawnSync(c, a);
      rmSync(pdir, { recursive: true, force: true });
    },
  };
}

/** COPY of `rows` rows of the host's sample layout through psql, pinned like the host. */
function copyRate(pg, rows) {
  const csv = join(pg.dir, 'rows.csv');
  const lines = [];
  for (let i = 0; i < rows; i++) lines.push(`${i % (NODES * METRICS)},${1700000000000 + i},,${i * 0.5},,,192,f`);
  writeFileSync(csv, lines.join('\n') + '\n');
  const psql = (sql) => {
    const [c, a] = pinned(0, 'psql', ['-h', '127.0.0.1', '-p', String(pg.port), '-U', 'fieldgate', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-q', '-c', sql]);
    const r = spawnSync(c, a, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
  };
  psql('CREATE TABLE raw_sample (series BIGINT NOT NULL, ts BIGINT NOT NULL, v_int NUMERIC, v_real DOUBLE PRECISION, v_text TEXT, v_bytes BYTEA, quality INTEGER NOT NULL, historical BOOLEAN NOT NULL, id BIGSERIAL PRIMARY KEY)');
  const t0 = performance.now();
  psql(`\\copy raw_sample (series, ts, v_int, v_real, v_text, v_bytes, quality, historical) FROM '${csv}' CSV`);
  return rows / ((performance.now() - t0) / 1000);
}

class EdgeNode {
  constructor(url, i) {
    this.group = 'bench';
    this.node = `n${i}`;
    this.seq = 0;
    this.key = 0;
    this.client = mqtt.connect(url, { protocolVersion: 5, clientId: `fleet-${i}`, reconnectPeriod: 0 });
    // An edge writes its messages at once (fieldgate's bridge writes whole drain passes).
    this.client.on('connect', () => this.client.stream.setNoDelay?.(true));
  }
  ready() {
    return new Promise((r) => this.client.once('connect', r));
  }
  birth() {
    this.seq = 0;
    const metrics = [{ name: 'bdSeq', type: 8, value: 0n }];
    for (let m = 0; m < METRICS; m++) metrics.push({ name: `m${m}`, alias: m + 1, type: 10, value: 0 });
    this.client.publish(`spBv1.0/${this.group}/NBIRTH/${this.node}`, Buffer.from(encodePayload({ timestamp: Date.now(), seq: this.seq++, metrics })), { qos: 0 });
  }
  /** One DATA message built now and sent later: the fleet's encoding stays out of the timing. */
  prepare(count) {
    const now = Date.now();
    const metrics = [];
    for (let m = 0; m < count; m++) metrics.push({ alias: m + 1, type: 10, writeDatatype: false, value: now + m, timestamp: now });
    this.key += 1;
    const payload = Buffer.from(encodePayload({ timestamp: now, seq: this.seq, metrics }));
    this.seq = (this.seq + 1) % 256;
    return [`spBv1.0/${this.group}/NDATA/${this.node}`, payload, { qos: 0, properties: { userProperties: { 'fg-dedup': `${this.group}/${this.node}/e1/${this.key}` } } }];
  }
  /** One DATA message built and sent now (the latency run times it from here). */
  data(count) {
    const at = Date.now();
    this.client.publish(...this.prepare(count));
    return { key: this.key, at };
  }
}

async function stats(port) {
  try {
    return (await (await fetch(`http://127.0.0.1:${port}/api/nodes`)).json()).stats;
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system, or `part` alone) the process has used so far, from /proc (Linux). */
function cpuSeconds(pid, part) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    const [user, system] = [Number(f[11]) / 100, Number(f[12]) / 100];
    return part === 'system' ? system : part === 'user' ? user : user + system;
  } catch {
    return NaN;
  }
}

async function throughput(fleet, hport, hostPid) {
  // SAMPLES as fast as the fleet can send them, in messages of METRICS samples.
  const messages = Math.ceil(SAMPLES / METRICS);
  let sent = 0;
  // The births' values are stored too: wait until they are, so the base does not count them
  // (a PostgreSQL host's first commit inserts every new series in its own round trip: seconds).
  for (let i = 0; i < 300 && (await stats(hport)).stored < NODES * METRICS; i++) await sleep(100);
  let base = (await stats(hport)).stored;
  for (let i = 0, still = 0; i < 100 && still < 5; i++) {
    await sleep(200);
    const now = (await stats(hport)).stored;
    still = now === base ? still + 1 : 0;
    base = now;
  }
  const commits0 = (await stats(hport)).commits;
  const cpu0 = cpuSeconds(hostPid);
  const sys0 = cpuSeconds(hostPid, 'system');
  let first;
  let last;
  const poll = setInterval(async () => {
    const s = await stats(hport);
    if (s === undefined) return;
    if (first === undefined && s.stored > base) first = { t: performance.now(), n: s.stored };
    // Only when it moved: polls after the last commit would add idle time to the rate (up to
    // the 1 s wait below, i.e. most of a 300,000-sample run: the wall-clock rate read 2x low).
    if (last === undefined || s.stored !== last.n) last = { t: performance.now(), n: s.stored };
  }, 50);
  const prepared = Array.from({ length: messages }, (_, i) => fleet[i % NODES].prepare(METRICS));
  for (let i = 0; i < messages; i++) {
    const [topic, payload, opts] = prepared[i];
    fleet[i % NODES].client.publish(topic, payload, opts);
    sent += METRICS;
    // Yield now and then so sockets drain; the host, not the fleet, should be the bound.
    if (i % 200 === 199) await new Promise((r) => setImmediate(r));
  }
  const t0 = performance.now();
  // Until everything is stored, or nothing moved for 15 s (on a loaded box the host can stall).
  for (let still = 0; (last?.n ?? 0) - base < sent && performance.now() - t0 < 180_000 && still < 15; ) {
    const before = last?.n;
    await sleep(1000);
    still = last?.n === before ? still + 1 : 0;
  }
  clearInterval(poll);
  const cpu = cpuSeconds(hostPid) - cpu0;
  const systemShare = (cpuSeconds(hostPid, 'system') - sys0) / cpu;
  const commits = ((await stats(hport))?.commits ?? NaN) - commits0;
  const stored = (last?.n ?? 0) - base;
  const hostRate = first && last && last.t > first.t ? (last.n - first.n) / ((last.t - first.t) / 1000) : 0;

  // Per CPU-second of the host process: what one core sustains, less bent by a shared box's load
  // than the wall-clock rate (includes the host's idle polling, so a lower bound).
  return { stored, hostRate, sent, perCpuSecond: stored / cpu, samplesPerCommit: Math.round(stored / commits), systemShare: Number(systemShare.toFixed(2)) };
}

async function main() {
  if (PIN) spawnSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
  const mport = await freePort();
  writeFileSync(join(dir, 'm.conf'), `listener ${mport} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\nmax_inflight_messages 0\nupgrade_outgoing_qos true\nset_tcp_nodelay true\nlog_dest none\n`);
  const [mc, ma] = pinned(1, 'mosquitto', ['-c', join(dir, 'm.conf')]);
  const mosq = spawn(mc, ma, { stdio: 'ignore' });
  await waitPort(mport);
  const hport = await freePort();
  writeFileSync(join(dir, 'host.yaml'), `version: 1\nhost:\n  id: bench\n  broker: { url: mqtt://127.0.0.1:${mport}, persistentSession: false }\n  store: { path: ${join(dir, 'host.db')} }\n  http: { port: ${hport} }\n${process.env.FG_MAX_DELAY ? `  batch: { maxDelay: ${process.env.FG_MAX_DELAY} }\n` : ''}`);
  // FG_HOST_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof": profile the host.
  const nodeArgs = (process.env.FG_HOST_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const [hc, ha] = pinned(0, process.execPath, [...nodeArgs, CLI, 'host', 'run', '--config', join(dir, 'host.yaml'), '--log-level', 'warn']);
  const host = spawn(hc, ha, { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitPort(hport);
  for (let i = 0; i < 100 && (await stats(hport)) === undefined; i++) await sleep(50);
  await sleep(500);

  const fleet = Array.from({ length: NODES }, (_, i) => new EdgeNode(`mqtt://127.0.0.1:${mport}`, i));
  await Promise.all(fleet.map((n) => n.ready()));
  for (const n of fleet) n.birth();
  await sleep(500);

  // 1. Throughput into SQLite.
  const { stored, hostRate, sent, perCpuSecond, samplesPerCommit, systemShare } = await throughput(fleet, hport, host.pid);

  // 2. Raw better-sqlite3 inserts of as many rows, same core.
  const [rawRate, rawPerCpuSecond] = rawInserts(join(dir, 'raw.db'), stored);
  // The classic comparator: one row per INSERT, same table, same 5,000-row transactions.
  const [rawRowRate, rawRowPerCpuSecond] = rawInserts(join(dir, 'raw1.db'), stored, 1);

  // 3. Latency at 1,000 samples/s: NODES nodes, each one message of 1000/NODES samples per second.
  const perMsg = Math.max(1, Math.round(1000 / NODES));
  const pending = new Map(fleet.map((n) => [`${n.group}/${n.node}`, new Map()]));
  const lat = [];
  const acks = mqtt.connect(`mqtt://127.0.0.1:${mport}`, { protocolVersion: 5 });
  acks.on('connect', () => acks.stream.setNoDelay?.(true));
  await new Promise((r) => acks.once('connect', () => acks.subscribe('fieldgate/ack/#', { qos: 1 }, r)));
  acks.on('message', (topic, payload) => {
    const node = topic.slice('fieldgate/ack/'.length);
    const { through, above = [] } = JSON.parse(payload.toString());
    const p = pending.get(node);
    if (p === undefined) return;
    const now = Date.now();
    for (const [k, at] of p) {
      if (k <= through || above.some(([a, b]) => k >= a && k <= b)) {
        lat.push(now - at);
        p.delete(k);
      }
    }
  });
  await sleep(500);
  for (let s = 0; s < RATE_SECONDS; s++) {
    for (let i = 0; i < NODES; i++) {
      const n = fleet[i];
      const { key, at } = n.data(perMsg);
      pending.get(`${n.group}/${n.node}`).set(key, at);
      await sleep(1000 / NODES);
    }
  }
  await sleep(1000);
  lat.sort((a, b) => a - b);
  const pct = (q) => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))] ?? NaN;

  // 4. The same into PostgreSQL (FG_PG=0 skips it): a second host on a throwaway cluster, and
  // COPY of as many rows through psql as the baseline, same core.
  let pgFigures;
  if (process.env.FG_PG !== '0' && existsSync('/usr/lib/postgresql')) {
    host.kill('SIGTERM');
    await new Promise((r) => host.once('exit', r));
    const pg = await startPostgres();
    try {
      const pport = await freePort();
      writeFileSync(join(dir, 'host-pg.yaml'), `version: 1\nhost:\n  id: bench-pg\n  broker: { url: mqtt://127.0.0.1:${mport}, persistentSession: false }\n  store: { postgres: { url: '${pg.url}' } }\n  http: { port: ${pport} }\n`);
      const [pc, pa] = pinned(0, process.execPath, [CLI, 'host', 'run', '--config', join(dir, 'host-pg.yaml'), '--log-level', 'warn']);
      const hostPg = spawn(pc, pa, { stdio: ['ignore', 'ignore', 'inherit'] });
      await waitPort(pport);
      await sleep(1000);
      for (const n of fleet) n.birth();
      await sleep(500);
      const r = await throughput(fleet, pport, hostPg.pid);
      hostPg.kill('SIGTERM');
      await new Promise((res) => hostPg.once('exit', res));
      pgFigures = { sent: r.sent, stored: r.stored, hostSamplesPerSecond: Math.round(r.hostRate), hostSamplesPerCpuSecond: Math.round(r.perCpuSecond), copyRowsPerSecond: Math.round(copyRate(pg, r.stored)) };
      pgFigures.ratio = Number((r.hostRate / pgFigures.copyRowsPerSecond).toFixed(2));
    } finally {
      pg.stop();
    }
  }

  console.log(JSON.stringify({
    pinned: PIN,
    nodes: NODES,
    samplesPerMessage: METRICS,
    sent,
    stored,
    hostSamplesPerSecond: Math.round(hostRate),
    hostSamplesPerCpuSecond: Math.round(perCpuSecond),
    samplesPerCommit,
    // The kernel's share of the host's CPU time (socket reads and writes, WAL writes and fsync).
    hostSystemCpuShare: systemShare,
    rawInsertsPerSecond: Math.round(rawRate),
    ratio: Number((hostRate / rawRate).toFixed(2)),
    // The same comparison in CPU time (host process vs raw process): what one core sustains.
    rawInsertsPerCpuSecond: Math.round(rawPerCpuSecond),
    cpuRatio: Number((perCpuSecond / rawPerCpuSecond).toFixed(2)),
    rawSingleRow: { insertsPerSecond: Math.round(rawRowRate), ratio: Number((hostRate / rawRowRate).toFixed(2)), insertsPerCpuSecond: Math.round(rawRowPerCpuSecond), cpuRatio: Number((perCpuSecond / rawRowPerCpuSecond).toFixed(2)) },
    postgres: pgFigures,
    latency: { samplesPerSecond: perMsg * NODES, messages: lat.length, p50: pct(0.5), p99: pct(0.99), max: lat.at(-1) },
  }));
  for (const n of fleet) n.client.end(true);
  acks.end(true);
  if (host.exitCode === null && host.signalCode === null) {
    host.kill('SIGTERM');
    await new Promise((r) => host.once('exit', r));
  }
  mosq.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
