// A node-opcua OPCUAServer for drivers/opcua tests, run as a separate process.
// usage: node server.mjs '<json options>'  options: { port, pki, users: {name: password}, modes }
// Prints one JSON line {"endpoint", "port", "certificate"} once listening; exits on SIGTERM.
// Certificates live under options.pki (a temp dir), never under ~/.config.
import { join } from 'node:path';
import {
  OPCUAServer, OPCUACertificateManager, MessageSecurityMode, SecurityPolicy, Variant, DataType, StatusCodes, DataValue,
} from 'node-opcua';

const opts = JSON.parse(process.argv[2] ?? '{}');
const serverPki = new OPCUACertificateManager({ rootFolder: join(opts.pki, 'server'), automaticallyAcceptUnknownCertificate: true, disableFileWatchers: true });
const userPki = new OPCUACertificateManager({ rootFolder: join(opts.pki, 'user'), automaticallyAcceptUnknownCertificate: true, disableFileWatchers: true });
await serverPki.initialize();
await userPki.initialize();

const users = opts.users ?? {};
const server = new OPCUAServer({
  port: opts.port ?? 0,
  hostname: '127.0.0.1',
  alternateHostname: ['127.0.0.1'],
  serverCertificateManager: serverPki,
  userCertificateManager: userPki,
  certificateFile: join(opts.pki, 'server', 'own', 'certs', 'server.pem'),
  privateKeyFile: join(opts.pki, 'server', 'own', 'private', 'private_key.pem'),
  allowAnonymous: opts.allowAnonymous ?? true,
  securityModes: [MessageSecurityMode.None, MessageSecurityMode.Sign, MessageSecurityMode.SignAndEncrypt],
  securityPolicies: [SecurityPolicy.None, SecurityPolicy.Basic256Sha256, SecurityPolicy.Aes128_Sha256_RsaOaep, SecurityPolicy.Aes256_Sha256_RsaPss],
  userManager: { isValidUser: (name, password) => users[name] !== undefined && users[name] === password },
  buildInfo: { productName: 'fieldgate-test-server' },
});
await server.initialize();

const addressSpace = server.engine.addressSpace;
const ns = addressSpace.getOwnNamespace();
const plant = ns.addFolder(addressSpace.rootFolder.objects, { nodeId: 's=Plant', browseName: 'Plant' });
const pump = ns.addObject({ organizedBy: plant, nodeId: 's=Plant.Pump', browseName: 'Pump' });

let ticks = 0;
const started = Date.now();
const timer = setInterval(() => (ticks += 1), 20);
ns.addVariable({
  componentOf: pump, nodeId: 's=Counter', browseName: 'Counter', dataType: 'UInt32',
  minimumSamplingInterval: 10, accessLevel: 'CurrentRead', userAccessLevel: 'CurrentRead',
  value: { get: () => new Variant({ dataType: DataType.UInt32, value: ticks }) },
});
ns.addVariable({
  componentOf: pump, nodeId: 's=Flow', browseName: 'Flow', dataType: 'Double',
  minimumSamplingInterval: 10,
  // A slow ramp: +0.1 per 20 ms tick, so deadband filters have something to filter.
  value: { get: () => new Variant({ dataType: DataType.Double, value: Math.round(ticks) / 10 }) },
});
const setpoint = ns.addVariable({
  componentOf: pump, nodeId: 's=Setpoint', browseName: 'Setpoint', dataType: 'Int16',
  accessLevel: 'CurrentRead | CurrentWrite', userAccessLevel: 'CurrentRead | CurrentWrite',
});
setpoint.setValueFromSource(new Variant({ dataType: DataType.Int16, value: 100 }));
const mode = ns.addVariable({
  componentOf: pump, nodeId: 's=Mode', browseName: 'Mode', dataType: 'String',
  accessLevel: 'CurrentRead | CurrentWrite', userAccessLevel: 'CurrentRead | CurrentWrite',
});
mode.setValueFromSource(new Variant({ dataType: DataType.String, value: 'AUTO' }));
const sensors = ns.addFolder(plant, { nodeId: 's=Plant.Sensors', browseName: 'Sensors' });
const broken = ns.addVariable({ organizedBy: sensors, nodeId: 's=Broken', browseName: 'Broken', dataType: 'Double' });
broken.setValueFromSource(new Variant({ dataType: DataType.Double, value: 0 }), StatusCodes.BadSensorFailure);
const doubtful = ns.addVariable({ organizedBy: sensors, nodeId: 's=Doubtful', browseName: 'Doubtful', dataType: 'Double' });
doubtful.setValueFromSource(new Variant({ dataType: DataType.Double, value: 3.5 }), StatusCodes.UncertainLastUsableValue);
const stamped = ns.addVariable({ organizedBy: sensors, nodeId: 's=Stamped', browseName: 'Stamped', dataType: 'Float' });
stamped.setValueFromSource(new Variant({ dataType: DataType.Float, value: 1.5 }), StatusCodes.Good, new Date('2020-01-02T03:04:05.000Z'));

await server.start();
const endpoint = server.getEndpointUrl();
const port = Number(new URL(endpoint.replace('opc.tcp', 'http')).port);
process.stdout.write(JSON.stringify({ endpoint, port, certificate: join(opts.pki, 'server', 'own', 'certs', 'server.pem'), startedAt: started }) + '\n');

process.on('SIGTERM', async () => {
  clearInterval(timer);
  await server.shutdown(0);
  process.exit(0);
});
