// OPC UA client devices: subscriptions or batched reads, security, writes (issue 7). This module
// is loaded for every site, so it holds only the schema; node-opcua is imported by start().
import { defineDriver } from '../../src/runtime/driver.js';
import { FieldgateError } from '../../src/errors.js';
import { check, connectionSchema, SECURITY_MODES, SECURITY_POLICIES, tagShape, type Connection, type OpcuaTagExtra } from './schema.js';
import { OpcuaDevice } from './opcua-device.js';
import { describeTag, opcuaCommands } from './commands.js';

export const opcuaDriver = defineDriver<Connection, OpcuaTagExtra>({ connectionSchema, tagShape, check }, {
  type: 'opcua',
  description: 'OPC UA server: monitored items or batched reads, security modes, username auth, writes',
  capabilities: { poll: true, write: true, subscribe: true, browse: true },
  create: (ctx) => new OpcuaDevice(ctx),
  describeTag,
  commands: opcuaCommands,
  browseOptions: { 'security-mode': { type: 'string' }, 'security-policy': { type: 'string' }, username: { type: 'string' }, pki: { type: 'string' } },
  browseUsage: `fieldgate opcua browse opc.tcp://plc:4840 --root ns=2;s=Line1 --depth 2
(opcua: --security-mode, --security-policy, --pki DIR, --username U
with the password in FIELDGATE_OPCUA_PASSWORD)`,
  // Loaded on demand like the driver itself: node-opcua only when someone browses.
  browse: async (endpoint, req) => {
    const { browse } = await import('./browse.js');
    const username = req.extra.username;
    // The password comes from the environment, never the command line (shell history, ps).
    const password = process.env.FIELDGATE_OPCUA_PASSWORD;
    return browse(endpoint, {
      ...(req.root !== undefined ? { root: req.root } : {}),
      ...(req.depth !== undefined ? { depth: req.depth } : {}),
      ...(req.extra.securityMode !== undefined ? { securityMode: oneOf('security mode', req.extra.securityMode, SECURITY_MODES) } : {}),
      ...(req.extra.securityPolicy !== undefined ? { securityPolicy: oneOf('security policy', req.extra.securityPolicy, SECURITY_POLICIES) } : {}),
      ...(req.extra.pki !== undefined ? { pki: req.extra.pki } : {}),
      ...(username !== undefined ? { auth: { kind: 'username' as const, username, password: password ?? '' } } : {}),
      logger: req.logger,
    });
  },
});

function oneOf<T extends string>(what: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new FieldgateError('FG_ERR_USAGE', `${what} must be one of ${allowed.join(', ')}`);
}

export default opcuaDriver;
