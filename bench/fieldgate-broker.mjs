// The fieldgate broker as a bench target: `node bench/fieldgate-broker.mjs <port>` (after `npm run build`).
import { brokerSchema } from '../dist/src/config/sections/broker.js';
import { Broker } from '../dist/src/broker/index.js';

const port = Number(process.argv[2]);
// Product defaults (100 in flight, 1000 queued, 4 MiB write buffer) except the per-address
// connection rate, which a benchmark opening many sockets from 127.0.0.1 would trip.
// QoS 1 loses nothing: publishers are slowed when a subscriber's queue fills (backpressure.ts).
const config = brokerSchema.parse({
  listeners: [{ host: '127.0.0.1', port }],
  sysInterval: false,
  limits: { connectionsPerSecondPerAddress: 0 },
});
const broker = new Broker(config);
await broker.listen();
process.stdout.write('listening\n');
process.on('SIGTERM', () => broker.close().then(() => process.exit(0)));
