// aedes (npm) as a bench target: `node bench/aedes-broker.mjs <port>`.
import net from 'node:net';
import { Aedes } from 'aedes';

const port = Number(process.argv[2]);
const aedes = await Aedes.createBroker();
const server = net.createServer(aedes.handle);
server.listen(port, '127.0.0.1', () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => server.close(() => aedes.close(() => process.exit(0))));
