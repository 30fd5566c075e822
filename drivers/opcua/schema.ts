// The `connection:` block and tag fields of an OPC UA device. Plain zod: this module is loaded
// for every site (config checks, JSON Schema), so it must never import node-opcua.
import { z } from 'zod';
import { duration } from '../../src/config/fields.js';
import type { DeviceConfig } from '../../src/config/sections/devices.js';
import type { ConfigProblem } from '../../src/runtime/driver.js';

export const SECURITY_MODES = ['None', 'Sign', 'SignAndEncrypt'] as const;
export const SECURITY_POLICIES = ['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'] as const;

// OPC UA Part 6, 5.3.1.10: ns=<index>;(i|s|g|b)=<id>, or nsu=<uri>;... ; ns=0 may be omitted.
const NODE_ID = /^(?:(?:ns=\d+|nsu=[^;]+);)?(?:i=\d+|s=.+|g=[0-9a-fA-F-]{36}|b=[A-Za-z0-9+/=]+)$/;

export const nodeId = z
  .string({ error: 'expected a node id such as ns=2;s=Pump1.Flow or ns=0;i=2258' })
  .regex(NODE_ID, 'a node id looks like ns=2;s=Pump1.Flow, ns=3;i=1001, nsu=urn:x;s=Tag or i=2258');

const auth = z
  .discriminatedUnion(
    'kind',
    [
      z.strictObject({ kind: z.literal('anonymous') }),
      z.strictObject({
        kind: z.literal('username'),
        username: z.string().min(1, 'username must not be empty'),
        password: z.string().meta({ description: 'use ${env:NAME} or ${file:/path}; never logged' }),
      }),
      z.strictObject({
        kind: z.literal('certificate'),
        certificate: z.string().min(1).meta({ description: 'user certificate file (PEM or DER)' }),
        privateKey: z.string().min(1).meta({ description: 'PEM private key of the user certificate' }),
      }),
    ],
    { error: 'auth.kind must be one of anonymous, username, certificate' },
  )
  .prefault({ kind: 'anonymous' })
  .meta({ description: 'user identity for the session' });

export const connectionSchema = z.strictObject({
  endpoint: z
    .string({ error: 'expected an endpoint URL such as opc.tcp://plc:4840' })
    .regex(/^opc\.tcp:\/\/[^/\s:]+(:\d+)?(\/.*)?$/, 'an endpoint looks like opc.tcp://host:4840 or opc.tcp://host:4840/path'),
  mode: z
    .enum(['subscribe', 'poll'], { error: 'mode must be subscribe or poll' })
    .default('subscribe')
    .meta({ description: 'subscribe: monitored items push changes; poll: one batched Read per pollInterval' }),
  securityMode: z.enum(SECURITY_MODES, { error: `securityMode must be one of ${SECURITY_MODES.join(', ')}` }).default('None'),
  securityPolicy: z.enum(SECURITY_POLICIES, { error: `securityPolicy must be one of ${SECURITY_POLICIES.join(', ')}` }).default('None'),
  auth,
  pki: z
    .string()
    .min(1)
    .default('./data/pki/opcua')
    .meta({
      description:
        "certificate store: own/ (the gateway's application certificate, created on first start), trusted/certs/ (server certificates you trust), rejected/ (untrusted servers land here); keep it beside the store's database",
    }),
  applicationName: z.string().min(1).default('fieldgate').meta({ description: 'client application name (also the certificate subject)' }),
  publishingInterval: duration('subscription publishing interval').prefault('1s'),
  samplingInterval: duration('default sampling interval of monitored items').prefault('500ms'),
  queueSize: z.number().int().min(1).max(10_000).default(1).meta({ description: 'default queue size of monitored items' }),
  sessionTimeout: duration('requested session timeout').prefault('60s'),
  maxNodesPerRead: z.number().int().min(1).max(10_000).default(500).meta({ description: 'poll mode: nodes per Read request' }),
});

export const tagShape = {
  nodeId: nodeId.meta({ description: 'the variable node, e.g. ns=2;s=Pump1.Flow' }),
  samplingInterval: duration('sampling interval of this monitored item (default: connection.samplingInterval)').optional(),
  queueSize: z.number().int().min(1).max(10_000).optional().meta({ description: 'queue size of this monitored item' }),
  serverDeadband: z
    .union([z.number().nonnegative(), z.string().regex(/^\d+(\.\d+)?\s*%$/, 'a percent deadband is written like "2%"')])
    .optional()
    .meta({ description: 'DataChangeFilter deadband the server applies, in raw units, or "N%" of the node EURange (Part 4, 7.22.2)' }),
};

export type SecurityMode = (typeof SECURITY_MODES)[number];
export type SecurityPolicyName = (typeof SECURITY_POLICIES)[number];
export type Auth =
  | { kind: 'anonymous' }
  | { kind: 'username'; username: string; password: string }
  | { kind: 'certificate'; certificate: string; privateKey: string };

export interface Connection {
  endpoint: string;
  mode: 'subscribe' | 'poll';
  securityMode: SecurityMode;
  securityPolicy: SecurityPolicyName;
  auth: Auth;
  pki: string;
  applicationName: string;
  publishingInterval: number;
  samplingInterval: number;
  queueSize: number;
  sessionTimeout: number;
  maxNodesPerRead: number;
}

export interface OpcuaTagExtra {
  nodeId: string;
  samplingInterval?: number | undefined;
  queueSize?: number | undefined;
  serverDeadband?: number | string | undefined;
}

export function check(device: DeviceConfig<Connection, OpcuaTagExtra>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const c = device.connection;
  if ((c.securityMode === 'None') !== (c.securityPolicy === 'None')) {
    problems.push({ path: ['connection', 'securityPolicy'], message: 'securityMode None goes with securityPolicy None, and Sign/SignAndEncrypt need a policy other than None' });
  }
  const seen = new Map<string, number>();
  device.tags.forEach((tag, i) => {
    const first = seen.get(tag.nodeId);
    if (first !== undefined) problems.push({ path: ['tags', i, 'nodeId'], message: `node ${tag.nodeId} is already read by tags[${first}]` });
    else seen.set(tag.nodeId, i);
    if (c.mode === 'poll' && (tag.samplingInterval !== undefined || tag.queueSize !== undefined || tag.serverDeadband !== undefined)) {
      problems.push({ path: ['tags', i], message: 'samplingInterval, queueSize and serverDeadband apply to subscribe mode only' });
    }
  });
  return problems;
}
