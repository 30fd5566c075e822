// The fieldgate broker as a bench target: `node bench/fieldgate-broker.mjs <port>` (after `npm run build`).
import { brokerSchema } from '../dist/src/config/sections/broker.js';
import { Broker } from '../dist/src/broker/index.js';
import v8 from 'node:v8';

const port = Number(process.argv[2]);
// Product defaults (100 in flight, 1000 queued, 4 MiB write buffer) except the per-address
// connection rate, which a benchmark opening many sockets from 127.0.0.1 would trip.
// QoS 1 loses nothing: publishers are slowed when a subscriber's queue fills (backpressure.ts).
const config = brokerSchema.parse({
  listeners: [{ host: '127.0.0.1', port }],
  sysInterval: false,
  // FIELDGATE_LIMITS='{"maxInflight":1000}' to measure other limits.
  limits: { connectionsPerSecondPerAddress: 0, ...JSON.parse(process.env.FIELDGATE_LIMITS ?? '{}') },
});
const broker = new Broker(config);
await broker.listen();
process.stdout.write('listening\n');
if (process.env.BENCH_MEMORY) {
  // Where the RSS goes: V8 heap vs. Buffers (external) vs. the rest. Sampled every 50 ms; the
  // sample with the highest RSS of each half second is printed, so peaks are not missed.
  const mib = (n) => (n / 1048576).toFixed(0);
  let worst;
  setInterval(() => {
    const m = process.memoryUsage();
    if (worst !== undefined && m.rss <= worst.m.rss) return;
    const core = broker.core; // internals, for this diagnostic only
    let queued = 0, inflight = 0, writable = 0;
    for (const s of core.sessions.values()) { queued += s.queue.length; inflight += s.inflight.size; }
    for (const c of core.connections) writable += c.stream.writableLength;
    worst = { m, queued, inflight, writable, spaces: v8.getHeapSpaceStatistics() };
  }, 50).unref();
  setInterval(() => {
    if (worst === undefined) return;
    const { m, queued, inflight, writable } = worst;
    // V8's spaces (size/used): which one grows under load (issue 15).
    const spaces = worst.spaces.filter((s) => s.space_size > 0).map((s) => `${s.space_name.replace('_space', '')} ${mib(s.space_size)}/${mib(s.space_used_size)}`).join(' ');
    process.stderr.write(`rss ${mib(m.rss)} heapTotal ${mib(m.heapTotal)} heapUsed ${mib(m.heapUsed)} external ${mib(m.external)} arrayBuffers ${mib(m.arrayBuffers)} | ${spaces} | queued ${queued} inflight ${inflight} unsent ${(writable / 1048576).toFixed(1)} MiB\n`);
    worst = undefined;
  }, 500).unref();
}
process.on('SIGTERM', () => broker.close().then(() => process.exit(0)));
