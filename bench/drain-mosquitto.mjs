// Drain rate: 1,000,000 buffered records from the outbox to Debian's mosquitto over loopback
// (QoS 1, MQTT 3.1.1, PUBACK per record, rows deleted on ack). Target (issue 4): >= 100,000/s.
// Run:  npx tsc -p tsconfig.json && node bench/drain-mosquitto.mjs
// Env: FG_N (records, default 1e6), FG_INFLIGHT (default 2000), FG_QOS (default 1),
//      FG_PROTOCOL (4 or 5, default 4), FG_SUBSCRIBE=1 to also count what a consumer receives,
//      FG_BASELINE=0 to skip the raw mqtt.js baseline run, FG_PIN=0 to leave the cores unpinned,
//      FG_CONFIRM (qos1, the default; host: a consumer subscribes, and its acks on
//      fieldgate/ack/<node> are what empties the outbox; fence).
// Pinned like the broker bench: the gateway (this process, all its threads) on core 0, mosquitto
// on core 1, so the figure is what one core of a small box drains, not what two shared cores do.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { openStore } from '../dist/src/store/open-store.js';
import { Bridge } from '../dist/src/bridge/bridge.js';
import { freePort, waitPort } from './lib/net.mjs';

const N = Number(process.env.FG_N ?? 1_000_000);
const INFLIGHT = Number(process.env.FG_INFLIGHT ?? 2000);
const QOS = Number(process.env.FG_QOS ?? 1);
const PROTOCOL = Number(process.env.FG_PROTOCOL ?? 4);
const CONFIRM = process.env.FG_CONFIRM ?? 'qos1';
const dir = mkdtempSync(join(tmpdir(), 'fg-bench-drain-'));

const port = await freePort();
writeFileSync(join(dir, 'm.conf'), [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'max_inflight_messages 0', 'max_queued_messages 0', 'persistence false', 'user root', 'log_dest none', ''].join('\n'));
const pinned = process.env.FG_PIN !== '0' && spawnSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' }).status === 0;
// taskset execs mosquitto, so mosq.pid is mosquitto's own pid (its CPU time is read below).
const mosq = pinned
  ? spawn('taskset', ['-c', '1', 'mosquitto', '-c', join(dir, 'm.conf')], { stdio: 'ignore' })
  : spawn('mosquitto', ['-c', join(dir, 'm.conf')], { stdio: 'ignore' });
await waitPort(port, { error: 'mosquitto did not start' });
const url = `mqtt://127.0.0.1:${port}`;

let received = 0;
let sub;
let ackTimer;
if (process.env.FG_SUBSCRIBE === '1' || CONFIRM === 'host') {
  sub = mqtt.connect(url, { clientId: 'bench-sub', reconnectPeriod: 0, protocolVersion: PROTOCOL });
  await new Promise((r) => sub.once('connect', () => sub.subscribe('spBv1.0/#', { qos: 1 }, r)));
  sub.on('message', () => received++);
}
if (CONFIRM === 'host') {
  // The consumer side of confirm: host. Mosquitto delivers one publisher's records to one
  // subscriber in order and the bench loses none, so the count received is the gap-free
  // `through` (a real consumer uses Deduper.acks(), which needs the key: FG_PROTOCOL=5).
  ackTimer = setInterval(() => {
    if (received > 0) sub.publish('fieldgate/ack/plant1/press-4', JSON.stringify({ epoch: store.outbox.epoch, through: received }), { qos: 1, retain: true });
  }, 20);
}

const store = openStore({ path: join(dir, 'drain.db'), maxBytes: 8 * 1024 ** 3, maxAgeMs: 7 * 86_400_000, onFull: 'drop-oldest', synchronous: 'normal' });
const payload = Buffer.alloc(60, 1);
const fillStart = Date.now();
for (let done = 0; done < N; done += 10_000) {
  const batch = [];
  for (let i = 0; i < Math.min(10_000, N - done); i++) batch.push({ kind: 'mqtt', topic: `spBv1.0/plant1/DDATA/press-4/plc${i % 8}`, payload, qos: QOS });
  store.outbox.append(batch);
}
const fillS = (Date.now() - fillStart) / 1000;

const bridge = new Bridge({
  outbox: store.outbox,
  node: 'plant1/press-4',
  session: { url, protocolVersion: PROTOCOL, clientId: 'fg-bench', keepaliveMs: 60_000, connectTimeoutMs: 5000 },
  inflight: INFLIGHT,
  maxQos: 2,
  replayRate: { unit: 'messages', perSecond: 0 },
  backoff: { minMs: 100, maxMs: 1000, jitter: 0.5 },
  confirm: CONFIRM,
  ...(CONFIRM === 'fence' ? { fenceTopic: 'fieldgate/fence/plant1/press-4' } : {}),
});
// CPU seconds as well as wall time: on a shared machine the wall rate swings with other load,
// the CPU cost per record does not.
import { readFileSync } from 'node:fs';
const mosqCpu = () => {
  const f = readFileSync(`/proc/${mosq.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
const cpu0 = process.cpuUsage();
const mcpu0 = mosqCpu();
const t0 = process.hrtime.bigint();
bridge.start();
await new Promise((resolve) => {
  const check = () => (store.outbox.stats().depth === 0 ? resolve() : setTimeout(check, 20));
  check();
});
const s = Number(process.hrtime.bigint() - t0) / 1e9;
const cpu = process.cpuUsage(cpu0);
const nodeCpuS = (cpu.user + cpu.system) / 1e6;
const mosqCpuS = mosqCpu() - mcpu0;
clearInterval(ackTimer);
if (sub) {
  const until = Date.now() + 30_000;
  while (received < N && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  sub.end(true);
}
await bridge.stop();
store.close();

// Baseline in the same run: mqtt.js alone publishing the same records from memory with the
// same window (no store, no acks to persist). This is the ceiling of the mqtt.js publish path.
async function rawMqttJs() {
  const c = mqtt.connect(url, { protocolVersion: PROTOCOL, clientId: 'bench-raw', reconnectPeriod: 0, log: () => undefined });
  await new Promise((r) => c.once('connect', r));
  let sent = 0;
  let acked = 0;
  const rc0 = process.cpuUsage();
  const rt0 = process.hrtime.bigint();
  await new Promise((resolve) => {
    const pump = () => {
      while (sent - acked < INFLIGHT && sent < N) {
        const i = sent++;
        c.publish(`spBv1.0/plant1/DDATA/press-4/plc${i % 8}`, payload, { qos: QOS }, () => {
          acked++;
          if (acked === N) resolve();
          else if (sent - acked < INFLIGHT / 2) pump();
        });
      }
    };
    pump();
  });
  const rs = Number(process.hrtime.bigint() - rt0) / 1e9;
  const rc = process.cpuUsage(rc0);
  await new Promise((r) => c.end(true, {}, r));
  return { recordsPerSecond: Math.round(N / rs), recordsPerCpuSecond: Math.round(N / ((rc.user + rc.system) / 1e6)) };
}
const raw = process.env.FG_BASELINE === '0' ? undefined : await rawMqttJs();
mosq.kill('SIGTERM');
rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify({
  bench: 'drain-mosquitto',
  records: N,
  qos: QOS,
  confirm: CONFIRM,
  protocolVersion: PROTOCOL,
  inflight: INFLIGHT,
  fillSeconds: +fillS.toFixed(2),
  drainSeconds: +s.toFixed(2),
  recordsPerSecond: Math.round(N / s),
  gatewayCpuSeconds: +nodeCpuS.toFixed(2),
  recordsPerGatewayCpuSecond: Math.round(N / nodeCpuS),
  mosquittoCpuSeconds: +mosqCpuS.toFixed(2),
  // The broker's own cost per record: on a machine where each process has a core to itself,
  // the drain cannot beat the lower of this and recordsPerGatewayCpuSecond.
  recordsPerMosquittoCpuSecond: Math.round(N / mosqCpuS),
  pinned: pinned ? 'gateway core 0, mosquitto core 1' : 'no',
  loadAverage1m: +(await import('node:os')).loadavg()[0].toFixed(2),
  ...(raw ? { rawMqttJs: raw, ratioToRawMqttJsCpu: +(N / nodeCpuS / raw.recordsPerCpuSecond).toFixed(2) } : {}),
  ...(sub ? { consumerReceived: received } : {}),
}, null, 1));
