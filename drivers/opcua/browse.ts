// `fieldgate opcua browse <endpoint> [--root nodeId] [--depth n]`: walks the address space below
// a node and prints a YAML `tags:` block of its variables, ready to paste under a device.
import { resolve } from 'node:path';
import type * as Opcua from 'node-opcua-client';
import type { Logger } from '../../src/observe/logger.js';
import { silentLogger } from '../../src/observe/logger.js';
import type { TagType } from '../../src/runtime/types.js';
import { loadOpcua, type OpcuaModule } from './load.js';
import { explainConnectError } from './trust.js';
import { describeUser, userIdentity } from './identity.js';
import type { Auth, SecurityMode, SecurityPolicyName } from './schema.js';
import { BuiltinType } from './values.js';

export interface BrowseOptions {
  /** Start node; default the Objects folder (i=85). */
  root?: string;
  /** Levels of hierarchical references to follow below root; default 3, at most 10. */
  depth?: number;
  securityMode?: SecurityMode;
  securityPolicy?: SecurityPolicyName;
  auth?: Auth;
  /** Certificate store, as in the device's `connection.pki`; default ./data/pki/opcua. */
  pki?: string;
  logger?: Logger;
}

/** Bounds the walk: a large server has hundreds of thousands of nodes. */
export const MAX_BROWSE_NODES = 5000;
const MAX_DEPTH = 10;
// The Server object (i=2253) holds hundreds of diagnostics variables nobody wants as tags.
const SKIP = new Set(['ns=0;i=2253', 'i=2253']);

const TAG_TYPE_OF: Record<number, TagType> = {
  [BuiltinType.Boolean]: 'bool', [BuiltinType.SByte]: 'int8', [BuiltinType.Byte]: 'uint8',
  [BuiltinType.Int16]: 'int16', [BuiltinType.UInt16]: 'uint16', [BuiltinType.Int32]: 'int32',
  [BuiltinType.UInt32]: 'uint32', [BuiltinType.Int64]: 'int64', [BuiltinType.UInt64]: 'uint64',
  [BuiltinType.Float]: 'float32', [BuiltinType.Double]: 'float64', [BuiltinType.String]: 'string',
  [BuiltinType.DateTime]: 'datetime', [BuiltinType.ByteString]: 'bytes', [BuiltinType.LocalizedText]: 'string',
};

interface Found {
  path: string[];
  nodeId: string;
}

export async function browse(endpoint: string, options: BrowseOptions = {}): Promise<string> {
  const depth = Math.min(MAX_DEPTH, Math.max(0, options.depth ?? 3));
  const root = options.root ?? 'i=85';
  const logger = options.logger ?? silentLogger();
  const ua = await loadOpcua(logger);
  const pkiFolder = resolve(options.pki ?? './data/pki/opcua');
  const pki = new ua.OPCUACertificateManager({ rootFolder: pkiFolder, automaticallyAcceptUnknownCertificate: false, disableFileWatchers: true });
  await pki.initialize();
  const client = ua.OPCUAClient.create({
    applicationName: 'fieldgate-browse',
    clientCertificateManager: pki,
    securityMode: ua.MessageSecurityMode[options.securityMode ?? 'None'],
    securityPolicy: ua.SecurityPolicy[options.securityPolicy ?? 'None'],
    endpointMustExist: false,
    connectionStrategy: { maxRetry: 0 },
  });
  try {
    try {
      await client.connect(endpoint);
    } catch (e) {
      throw explainConnectError(e, endpoint, pkiFolder);
    }
    const auth = options.auth ?? { kind: 'anonymous' };
    const session = await client.createSession(userIdentity(ua, auth)).catch((e: unknown) => {
      throw explainConnectError(e, endpoint, pkiFolder, describeUser(auth));
    });
    try {
      const { variables, truncated } = await walk(ua, session, root, depth);
      const lines = await describe(ua, session, variables);
      const header = `# ${variables.length} variables below ${root} (depth ${depth}) on ${endpoint}${truncated ? `; stopped at ${MAX_BROWSE_NODES} nodes` : ''}`;
      return [header, 'tags:', ...lines].join('\n') + '\n';
    } finally {
      await session.close().catch(() => undefined);
    }
  } finally {
    await client.disconnect().catch(() => undefined);
    await pki.dispose().catch(() => undefined);
  }
}

async function walk(ua: OpcuaModule, session: Opcua.ClientSession, root: string, depth: number): Promise<{ variables: Found[]; truncated: boolean }> {
  const variables: Found[] = [];
  const visited = new Set<string>([ua.coerceNodeId(root).toString()]);
  let level: Found[] = [{ path: [], nodeId: root }];
  let seen = 0;
  for (let d = 0; d < depth && level.length > 0; d++) {
    const results = await session.browse(
      level.map((n) => ({
        nodeId: n.nodeId,
        browseDirection: ua.BrowseDirection.Forward,
        referenceTypeId: 'HierarchicalReferences',
        includeSubtypes: true,
        nodeClassMask: ua.NodeClassMask.Object | ua.NodeClassMask.Variable,
        resultMask: 0x3f,
      })),
    );
    const next: Found[] = [];
    for (const [i, result] of results.entries()) {
      const parent = level[i] as Found;
      for (const ref of result.references ?? []) {
        const id = ref.nodeId.toString();
        if (visited.has(id) || SKIP.has(id)) continue;
        visited.add(id);
        if (++seen > MAX_BROWSE_NODES) return { variables, truncated: true };
        const found = { path: [...parent.path, ref.browseName.name ?? id], nodeId: id };
        if (ref.nodeClass === ua.NodeClass.Variable) variables.push(found);
        // Variables can have children too (properties such as EURange): browse on.
        next.push(found);
      }
    }
    level = next;
  }
  return { variables, truncated: false };
}

async function describe(ua: OpcuaModule, session: Opcua.ClientSession, variables: Found[]): Promise<string[]> {
  const lines: string[] = [];
  const names = new Map<string, number>();
  for (const v of variables) {
    const nodeId = ua.coerceNodeId(v.nodeId);
    const [rank, access] = await session.read([
      { nodeId, attributeId: ua.AttributeIds.ValueRank },
      { nodeId, attributeId: ua.AttributeIds.UserAccessLevel },
    ]);
    const builtin = (await session.getBuiltInDataType(nodeId).catch(() => undefined)) as number | undefined;
    const type = builtin === undefined ? undefined : TAG_TYPE_OF[builtin];
    const name = uniqueName(v.path.join('/'), names);
    if (type === undefined) {
      lines.push(`  # skipped ${name} (${v.nodeId}): data type ${builtin ?? 'unknown'} has no tag type`);
      continue;
    }
    const valueRank = Number(rank?.value.value ?? -1);
    if (valueRank >= 0) {
      lines.push(`  # skipped ${name} (${v.nodeId}): arrays are not supported`);
      continue;
    }
    // AccessLevel bit 1 is CurrentWrite (Part 3, 8.57).
    const writable = (Number(access?.value.value ?? 0) & 0x02) !== 0;
    lines.push(`  - { name: ${JSON.stringify(name)}, type: ${type}, nodeId: ${JSON.stringify(v.nodeId)}${writable ? ', writable: true' : ''} }`);
  }
  return lines;
}

/** Tag names allow letters, digits, '_', '.', '-', '/', spaces (devices.ts); the rest become '_'. */
function uniqueName(raw: string, names: Map<string, number>): string {
  let name = raw.replace(/[^A-Za-z0-9_.\-/ ]/g, '_').replace(/^[^A-Za-z0-9_]/, '_');
  if (name === '') name = 'tag';
  const n = (names.get(name) ?? 0) + 1;
  names.set(name, n);
  return n === 1 ? name : `${name}_${n}`;
}
