// Modbus driver benchmarks, one JSON line per row for bench/run.mjs:
//  1. poll-cycle time for 1,000 tags over Modbus TCP (modbus-serial ServerTCP on loopback,
//     in this same process and core, so the figure includes the server's work);
//  2. RTU line utilisation at 19,200 baud: the wire time of the frames exchanged divided by
//     the time the driver took, against a slave that holds each frame for its wire time
//     (drivers/modbus/testing/rtu-wire-server.ts; a pty has no baud rate to measure).
// Run: npx tsc -p tsconfig.bench.json && node bench/modbus.mjs (test peers stay out of dist/)
import { createModbusDriver } from '../dist-bench/drivers/modbus/index.js';
import { harness } from '../dist-bench/drivers/modbus/testing/harness.js';
import { TestModbusServer } from '../dist-bench/drivers/modbus/testing/tcp-server.js';
import { RtuWireServer } from '../dist-bench/drivers/modbus/testing/rtu-wire-server.js';
import net from 'node:net';

const CYCLES = Number(process.env.BENCH_MODBUS_CYCLES ?? 200);

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function thousandTags() {
  // 400 uint16, 300 float32 (CDAB), 200 int32, 100 bits of 7 registers: 1,407 registers.
  const tags = [];
  let a = 0;
  for (let i = 0; i < 400; i++) tags.push({ name: `u${i}`, address: a++, type: 'uint16' });
  for (let i = 0; i < 300; i++, a += 2) tags.push({ name: `f${i}`, address: a, type: 'float32', byteOrder: 'CDAB' });
  for (let i = 0; i < 200; i++, a += 2) tags.push({ name: `i${i}`, address: a, type: 'int32' });
  for (let i = 0; i < 100; i++) tags.push({ name: `b${i}`, address: a + Math.floor(i / 16), type: 'bool', bit: i % 16 });
  return tags;
}

async function tcpPollCycle() {
  const server = new TestModbusServer();
  await server.start();
  for (let i = 0; i < 2000; i++) server.unit(1).holding[i] = i * 7;
  const h = harness(createModbusDriver(), {
    name: 'bench', driver: 'modbus', timeout: '5s',
    connection: { host: '127.0.0.1', port: server.port, unitId: 1 },
    tags: thousandTags(),
  });
  await h.driver.start();
  const signal = () => AbortSignal.timeout(5000);
  for (let i = 0; i < 20; i++) await h.driver.poll(signal()); // warm-up
  server.reads.length = 0;
  const times = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < CYCLES; i++) {
    const s = performance.now();
    const r = await h.driver.poll(signal());
    times.push(performance.now() - s);
    if (r.length !== 1000 || r.some((x) => x.quality !== 'GOOD')) throw new Error('bad poll in bench');
  }
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const requestsPerPoll = server.reads.length / CYCLES;
  const registersPerPoll = server.reads.slice(0, requestsPerPoll).reduce((sum, [, , , count]) => sum + count, 0);
  const oneCycle = server.reads.slice(0, requestsPerPoll).map(([, , address, count]) => [address, count]);
  await h.driver.stop();
  const bare = await bareClientCycle(server.port, oneCycle);
  await server.stop();
  times.sort((x, y) => x - y);
  return {
    name: 'modbus TCP poll cycle, 1,000 tags (median)',
    value: Number(percentile(times, 50).toFixed(2)),
    unit: 'ms',
    rssBytes: process.memoryUsage().rss,
    cpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / wall) * 100),
    detail: `p95 ${percentile(times, 95).toFixed(2)} ms, ${requestsPerPoll} requests per poll (${registersPerPoll} registers), ${CYCLES} cycles; a bare socket sending the same ${requestsPerPoll} requests to the same server: median ${bare.toFixed(2)} ms (ServerTCP defers each answer with setTimeout 0)`,
  };
}

/** The same FC3 requests from a bare socket, no driver: what the server itself costs. */
async function bareClientCycle(port, requests) {
  const sock = net.connect(port, '127.0.0.1');
  sock.setNoDelay(true);
  await new Promise((r) => sock.once('connect', r));
  let pending;
  let buf = Buffer.alloc(0);
  sock.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    if (buf.length >= 6 && buf.length >= 6 + buf.readUInt16BE(4)) {
      buf = Buffer.alloc(0);
      pending();
    }
  });
  const ask = (tid, address, count) => new Promise((resolve) => {
    pending = resolve;
    const req = Buffer.alloc(12);
    req.writeUInt16BE(tid, 0); req.writeUInt16BE(0, 2); req.writeUInt16BE(6, 4);
    req[6] = 1; req[7] = 3; req.writeUInt16BE(address, 8); req.writeUInt16BE(count, 10);
    sock.write(req);
  });
  const times = [];
  let tid = 0;
  for (let c = 0; c < CYCLES; c++) {
    const s = performance.now();
    for (const [address, count] of requests) await ask(++tid & 0xffff, address, count);
    times.push(performance.now() - s);
  }
  sock.destroy();
  times.sort((x, y) => x - y);
  return percentile(times, 50);
}

async function rtuUtilisation(name, tags, registerGap) {
  const wire = new RtuWireServer(19200);
  await wire.start();
  const h = harness(createModbusDriver(), {
    name: 'bench', driver: 'modbus', timeout: '10s',
    connection: { transport: 'rtu-over-tcp', host: '127.0.0.1', port: wire.port, unitId: 1, baudRate: 19200, registerGap },
    tags,
  });
  await h.driver.start();
  await h.driver.poll(AbortSignal.timeout(10_000)); // warm-up
  wire.resetStats();
  const cycles = 5;
  const t0 = performance.now();
  for (let i = 0; i < cycles; i++) await h.driver.poll(AbortSignal.timeout(10_000));
  const wall = performance.now() - t0;
  const requests = wire.stats.requests;
  await h.driver.stop();
  await wire.stop();
  const utilisation = (wire.stats.wireMs / wall) * 100;
  // The 3.5-character silence before each request is required by the protocol: the best any
  // master can do is wire / (wire + silences).
  const ceiling = (wire.stats.wireMs / (wire.stats.wireMs + requests * wire.silenceMs)) * 100;
  return {
    name,
    value: Number(utilisation.toFixed(1)),
    unit: '% of wire time',
    detail: `${(wall / cycles).toFixed(1)} ms per cycle vs ${(wire.stats.wireMs / cycles).toFixed(1)} ms of frames; ${requests / cycles} requests per cycle; protocol ceiling with 3.5-char silences ${ceiling.toFixed(1)}%`,
    rssBytes: process.memoryUsage().rss,
  };
}

const rows = [];
rows.push(await tcpPollCycle());
rows.push(await rtuUtilisation(
  'modbus RTU line utilisation, 19,200 baud, 1,000 uint16 tags',
  Array.from({ length: 1000 }, (_, i) => ({ name: `r${i}`, address: i })),
  10,
));
rows.push(await rtuUtilisation(
  'modbus RTU line utilisation, 19,200 baud, 100 scattered float32 (one request each)',
  Array.from({ length: 100 }, (_, i) => ({ name: `f${i}`, address: i * 20, type: 'float32' })),
  0,
));
for (const r of rows) process.stdout.write(JSON.stringify(r) + '\n');
