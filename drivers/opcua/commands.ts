// `fieldgate opcua read ENDPOINT NODEID...` (issue 20): read a few nodes once, without a site
// file. The arguments become a device in poll mode (one batched Read), probed like any other.
import type { DriverCommand } from '../../src/runtime/driver.js';
import { FieldgateError } from '../../src/errors.js';
import type { OpcuaTagExtra } from './schema.js';

/** A tag name for a node id: Sparkplug-safe characters only (`ns=2;s=Flow` -> `ns_2_s_Flow`). */
export function tagNameFor(nodeId: string): string {
  const name = nodeId.replace(/[^A-Za-z0-9_.\-/ ]/g, '_');
  return /^[A-Za-z0-9_]/.test(name) ? name : `_${name}`;
}

export const opcuaCommands: readonly DriverCommand[] = [
  {
    name: 'read',
    usage: `ENDPOINT NODEID... [--type T] [--timeout 20s] [--pki DIR] [--security-mode M] [--security-policy P]
    reads each node once (one Read request) and prints one row per node: value, quality, reason`,
    options: {
      type: { type: 'string' }, timeout: { type: 'string' }, pki: { type: 'string' },
      'security-mode': { type: 'string' }, 'security-policy': { type: 'string' },
    },
    run: async (req) => {
      const [endpoint, ...nodeIds] = req.positionals;
      if (endpoint === undefined || nodeIds.length === 0) throw new FieldgateError('FG_ERR_USAGE', 'give ENDPOINT and at least one NODEID');
      const opt = (k: string): string | undefined => (typeof req.values[k] === 'string' ? (req.values[k] as string) : undefined);
      const type = opt('type');
      const names = new Set<string>();
      const tags = nodeIds.map((nodeId) => {
        let name = tagNameFor(nodeId);
        while (names.has(name)) name += '_';
        names.add(name);
        return { name, nodeId, ...(type !== undefined ? { type } : {}) };
      });
      return req.probe({
        name: 'opcua-read',
        driver: 'opcua',
        // The first run creates the gateway's application certificate (a key pair): allow for it.
        timeout: opt('timeout') ?? '20s',
        connection: {
          endpoint,
          mode: 'poll',
          ...(opt('pki') !== undefined ? { pki: opt('pki') } : {}),
          ...(opt('security-mode') !== undefined ? { securityMode: opt('security-mode') } : {}),
          ...(opt('security-policy') !== undefined ? { securityPolicy: opt('security-policy') } : {}),
        },
        tags,
      });
    },
  },
];

export function describeTag(tag: OpcuaTagExtra): string {
  return tag.nodeId;
}
