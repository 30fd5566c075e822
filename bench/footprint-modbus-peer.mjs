// A Modbus TCP server for bench/footprint.mjs: modbus-serial's ServerTCP on loopback, units
// 1..N answering holding registers with their address. Prints `port N` once listening.
import modbusSerial from 'modbus-serial';
import net from 'node:net';

const units = Number(process.argv[2] ?? 1);
const probe = net.createServer();
await new Promise((r) => probe.listen(0, '127.0.0.1', r));
const port = probe.address().port;
await new Promise((r) => probe.close(r));
const server = new modbusSerial.ServerTCP({
  getHoldingRegister: (addr, unit) => (unit >= 1 && unit <= units ? addr & 0xffff : 0),
  getInputRegister: (addr) => addr & 0xffff,
  getCoil: () => false,
  getDiscreteInput: () => false,
}, { host: '127.0.0.1', port, unitID: 255 });
server.on('initialized', () => process.stdout.write(`port ${port}\n`));
server.on('socketError', () => undefined);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
