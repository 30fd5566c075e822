// The fieldgate broker as a bench target: `node bench/fieldgate-broker.mjs <port>` (after `npm run build`).
import { brokerSchema } from '../dist/src/config/sections/broker.js';
import { Broker } from '../dist/src/broker/index.js';

const port = Number(process.argv[2]);
// Limits opened up to match the Mosquitto configuration used in the same run.
const config = brokerSchema.parse({
  listeners: [{ host: '127.0.0.1', port }],
  sysInterval: false,
  limits: { maxConnections: 10_000, connectionsPerSecondPerAddress: 0, maxInflight: 1000, maxQueued: 100_000, maxQueuedBytes: '1GiB', maxWriteBuffer: '64MiB' },
});
const broker = new Broker(config);
await broker.listen();
process.stdout.write('listening\n');
process.on('SIGTERM', () => broker.close().then(() => process.exit(0)));
