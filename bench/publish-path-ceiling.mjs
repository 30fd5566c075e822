// How fast can anything publish QoS 1 to mosquitto on this machine? mqtt.js vs a minimal
// publisher on mqtt-packet (one encode per record, one socket write per batch, PUBACKs parsed
// with mqtt-packet's parser), same records, same window, same run. Informs whether the drain
// target (100k records/s) needs a leaner publish path than mqtt.js.
// Run:  node bench/publish-path-ceiling.mjs   (FG_N, FG_INFLIGHT)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';

const N = Number(process.env.FG_N ?? 500_000);
const W = Number(process.env.FG_INFLIGHT ?? 2000);
const payload = Buffer.alloc(60, 1);
const dir = mkdtempSync(join(tmpdir(), 'fg-bench-ceiling-'));
const port = await new Promise((r) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => r(p)); }); });
writeFileSync(join(dir, 'm.conf'), [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'max_inflight_messages 0', 'max_queued_messages 0', 'persistence false', 'user root', 'log_dest none', ''].join('\n'));
const mosq = spawn('mosquitto', ['-c', join(dir, 'm.conf')], { stdio: 'ignore' });
for (let i = 0; i < 250; i++) {
  const ok = await new Promise((res) => { const c = net.connect(port, '127.0.0.1'); c.once('connect', () => { c.destroy(); res(true); }); c.once('error', () => res(false)); });
  if (ok) break;
  await new Promise((r) => setTimeout(r, 20));
}

function measure(fn) {
  return async () => {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await fn();
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(c0);
    return { recordsPerSecond: Math.round(N / s), recordsPerCpuSecond: Math.round(N / ((c.user + c.system) / 1e6)) };
  };
}

const viaMqttJs = measure(async () => {
  const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId: 'ceiling-mqttjs', reconnectPeriod: 0, log: () => undefined });
  await new Promise((r) => c.once('connect', r));
  let sent = 0;
  let acked = 0;
  await new Promise((resolve) => {
    const pump = () => {
      while (sent - acked < W && sent < N) {
        const i = sent++;
        c.publish(`spBv1.0/plant1/DDATA/press-4/plc${i % 8}`, payload, { qos: 1 }, () => {
          acked++;
          if (acked === N) resolve();
          else if (sent - acked < W / 2) pump();
        });
      }
    };
    pump();
  });
  await new Promise((r) => c.end(true, {}, r));
});

const viaMqttPacket = measure(async () => {
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  const parser = mqttPacket.parser();
  socket.on('data', (d) => parser.parse(d));
  await new Promise((r) => socket.once('connect', r));
  socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'ceiling-lean', keepalive: 60 }));
  await new Promise((r) => parser.once('packet', r));
  let sent = 0;
  let acked = 0;
  await new Promise((resolve) => {
    const pump = () => {
      const batch = [];
      while (sent - acked < W && sent < N) {
        const i = sent++;
        batch.push(mqttPacket.generate({ cmd: 'publish', topic: `spBv1.0/plant1/DDATA/press-4/plc${i % 8}`, payload, qos: 1, messageId: (i % 65535) + 1, retain: false, dup: false }));
      }
      if (batch.length > 0) socket.write(Buffer.concat(batch));
    };
    parser.on('packet', (p) => {
      if (p.cmd !== 'puback') return;
      acked++;
      if (acked === N) resolve();
      else if (sent - acked < W / 2) pump();
    });
    pump();
  });
  socket.end(mqttPacket.generate({ cmd: 'disconnect' }));
});

const mqttJs = await viaMqttJs();
const lean = await viaMqttPacket();
mosq.kill('SIGTERM');
rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify({ bench: 'publish-path-ceiling', records: N, qos: 1, inflight: W, mqttJs, mqttPacketBatched: lean, loadAverage1m: +(await import('node:os')).loadavg()[0].toFixed(2) }));
