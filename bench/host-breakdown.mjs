// Where one core's time goes per sample in the host's ingest (issue 14, "≥ 0.5× raw inserts"):
// CPU microseconds a sample for each stage, measured on the same pre-encoded fleet messages
// (N nodes, METRICS samples a message, MQTT 5 with fg dedup keys) in this one process:
//   receive  the host's MQTT session (src/host/mqtt-link.ts, held PUBACKs released 100 at a time) reading
//            QoS 1 PUBLISH packets off a loopback socket from a minimal broker that writes them
//            pre-serialised (the broker's side, in the same process, only writes), handler empty
//   decode   decodeSparkplugFast
//   model    + topic, lifecycle (aliases, seq), dedup key and ledger, series memory, batches
//            of 5,000 (dropped when full, as a committed batch is)
//   insert   SqliteHistory.commit of the samples (5,000 a transaction, WAL, synchronous FULL)
//   raw      the same rows as bare better-sqlite3 inserts of the host's statement shape
// The sum is the host's floor per sample on this machine; the raw figure is what the "same
// shape" comparator spends; their ratio bounds the host/raw ratio from above.
// Run:  npx tsc -p tsconfig.json && taskset -c 1 node bench/host-breakdown.mjs   (FG_SAMPLES, FG_NODES, FG_METRICS)
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqttPacket from 'mqtt-packet';
import Database from 'better-sqlite3';
import { extractDedupKey } from '../dist/src/bridge/dedup-key.js';
import { DedupLedger } from '../dist/src/host/dedup-ledger.js';
import { decodeSparkplugFast } from '../dist/src/host/fast-decode.js';
import { Lifecycle } from '../dist/src/host/lifecycle.js';
import { SeriesMemory } from '../dist/src/host/series-memory.js';
import { SqliteHistory } from '../dist/src/host/sqlite-history.js';
import { HostSession } from '../dist/src/host/session.js';
import { hostSchema } from '../dist/src/config/sections/host.js';
import { silentLogger } from '../dist/src/observe/logger.js';
import { parseTopic } from '../dist/src/sparkplug/topics.js';
import { encodePayload } from '../dist/src/sparkplug/payload.js';

const NODES = Number(process.env.FG_NODES ?? 100);
const METRICS = Number(process.env.FG_METRICS ?? 50);
const SAMPLES = Number(process.env.FG_SAMPLES ?? 500_000);
const dir = mkdtempSync(join(tmpdir(), 'fg-bench-breakdown-'));
const cpu = (f) => {
  const c0 = process.cpuUsage();
  const r = f();
  const c = process.cpuUsage(c0);
  return [(c.user + c.system) / 1e6, r];
};
const cpuAsync = async (f) => {
  const c0 = process.cpuUsage();
  const r = await f();
  const c = process.cpuUsage(c0);
  return [(c.user + c.system) / 1e6, r];
};

// The fleet's messages, as bench/host.mjs sends them (aliases only, Double, one key each).
const births = [];
for (let i = 0; i < NODES; i++) {
  const metrics = [{ name: 'bdSeq', type: 8, value: 0n }];
  for (let m = 0; m < METRICS; m++) metrics.push({ name: `m${m}`, alias: m + 1, type: 10, value: 0, timestamp: 1 });
  births.push([`spBv1.0/bench/NBIRTH/n${i}`, Buffer.from(encodePayload({ timestamp: 1, seq: 0, metrics })), undefined]);
}
const messages = Math.ceil(SAMPLES / METRICS);
const data = [];
const seqs = new Array(NODES).fill(1);
for (let k = 0; k < messages; k++) {
  const n = k % NODES;
  const metrics = [];
  const t = 1_700_000_000_000 + k;
  for (let m = 0; m < METRICS; m++) metrics.push({ alias: m + 1, type: 10, writeDatatype: false, value: t + m, timestamp: t });
  data.push([`spBv1.0/bench/NDATA/n${n}`, Buffer.from(encodePayload({ timestamp: t, seq: seqs[n], metrics })), { 'fg-dedup': `bench/n${n}/e1/${Math.floor(k / NODES) + 1}` }]);
  seqs[n] = (seqs[n] + 1) % 256;
}
const samples = messages * METRICS;

/** receive: a broker that answers CONNECT and SUBSCRIBE, then writes every PUBLISH at QoS 1. */
async function receive() {
  const wire = Buffer.concat(
    data.map(([topic, payload, props], i) =>
      mqttPacket.generate({ cmd: 'publish', topic, payload, qos: 1, messageId: (i % 65535) + 1, properties: { userProperties: props } }, { protocolVersion: 5 }),
    ),
  );
  const server = net.createServer((sock) => {
    const parser = mqttPacket.parser({ protocolVersion: 5 });
    parser.on('packet', (p) => {
      if (p.cmd === 'connect') sock.write(mqttPacket.generate({ cmd: 'connack', sessionPresent: false, reasonCode: 0 }, { protocolVersion: 5 }));
      if (p.cmd === 'subscribe') {
        sock.write(mqttPacket.generate({ cmd: 'suback', messageId: p.messageId, granted: [1] }, { protocolVersion: 5 }));
        sock.write(wire);
        // The client's PUBACKs are not parsed: only the client's side is measured.
        reading = false;
      }
    });
    let reading = true;
    sock.on('data', (b) => reading && parser.parse(b));
    sock.on('error', () => undefined);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  // The host's own session (src/host/session.ts): PUBACKs held, released in one write per 100
  // messages as after a commit.
  const cfg = hostSchema.parse({ id: 'breakdown', broker: { url: `mqtt://127.0.0.1:${server.address().port}`, persistentSession: false } });
  let got = 0;
  let done;
  let acks = [];
  const finished = new Promise((r) => (done = r));
  let session;
  let start;
  session = new HostSession(cfg, {
    message: () => {
      // From the first PUBLISH on (the link's connect and subscribe are not ingest).
      if (got === 0) start = process.cpuUsage();
      if (++got === data.length) done();
    },
    heldAck: (a) => {
      acks.push(a);
      if (acks.length === 100) {
        session.release(acks);
        acks = [];
      }
    },
    connected: () => undefined,
  }, silentLogger());
  await finished;
  const c = process.cpuUsage(start);
  session.release(acks);
  await session.link.end();
  server.close();
  return (c.user + c.system) / 1e6;
}

const us = (s) => Number(((s / samples) * 1e6).toFixed(3));
const out = { samples, nodes: NODES, samplesPerMessage: METRICS };

out.receive = us(await receive());

const [decodeCpu] = cpu(() => {
  let n = 0;
  for (const [, p] of data) n += decodeSparkplugFast(p).metrics.length;
  return n;
});
out.decode = us(decodeCpu);

/** Decode and model every message into batches of 5,000 samples; `keep` holds the batches. */
function model(keep) {
  const lifecycle = new Lifecycle();
  const ledger = new DedupLedger();
  const series = new SeriesMemory();
  for (const [topic, payload] of births) lifecycle.handle(parseTopic(topic), decodeSparkplugFast(payload), 1);
  const c0 = process.cpuUsage();
  let batch = [];
  for (const [topic, payload, props] of data) {
    const t = parseTopic(topic);
    const outcome = lifecycle.handle(t, decodeSparkplugFast(payload), 1);
    const key = extractDedupKey({ payload, userProperties: props });
    if (key !== undefined && outcome.complete && ledger.admit(key)) for (const s of series.data(outcome.samples)) batch.push(s);
    if (batch.length >= 5000) {
      ledger.dirty();
      ledger.clearDirty();
      // The host drops a batch once committed: holding them all would time the GC of 500k live samples.
      if (keep !== undefined) keep.push(batch);
      batch = [];
    }
  }
  if (batch.length > 0 && keep !== undefined) keep.push(batch);
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
}
out.model = us(model(undefined) - decodeCpu);
const batches = [];
model(batches);

const store = new SqliteHistory(join(dir, 'h.db'));
const [insertCpu] = await cpuAsync(async () => {
  for (const b of batches) await store.commit(b, [], []);
});
await store.close();
out.insert = us(insertCpu);

const db = new Database(join(dir, 'raw.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec('CREATE TABLE sample (series INTEGER NOT NULL, ts INTEGER NOT NULL, value, quality INTEGER NOT NULL, historical INTEGER NOT NULL)');
const one = db.prepare('INSERT INTO sample (series, ts, value, quality, historical) VALUES (?, ?, ?, ?, ?)');
const many = db.prepare(`INSERT INTO sample (series, ts, value, quality, historical) VALUES ${Array.from({ length: 64 }, () => '(?, ?, ?, ?, ?)').join(', ')}`);
const tx = db.transaction((from, n) => {
  const args = [];
  for (let i = from; i < from + n; i++) {
    args.push(i % (NODES * METRICS), 1_700_000_000_000 + i, i * 0.5, 192, 0);
    if (args.length === 320) (many.run(args), (args.length = 0));
  }
  for (let j = 0; j < args.length; j += 5) one.run(args.slice(j, j + 5));
});
const [rawCpu] = cpu(() => {
  for (let i = 0; i < samples; i += 5000) tx(i, Math.min(5000, samples - i));
});
db.close();
out.raw = us(rawCpu);
out.hostFloor = Number((out.receive + out.decode + out.model + out.insert).toFixed(3));
out.maxRatio = Number((out.raw / out.hostFloor).toFixed(2));
out.unit = 'CPU µs per sample';
console.log(JSON.stringify(out));
rmSync(dir, { recursive: true, force: true });
