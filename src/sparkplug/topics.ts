// Sparkplug B topic namespace (spec 4.1): spBv1.0/<group>/<type>/<edge node>[/<device>], and
// the 3.0 primary host STATE topic spBv1.0/STATE/<host id>.

export const NAMESPACE = 'spBv1.0';

export type NodeMessageType = 'NBIRTH' | 'NDEATH' | 'NDATA' | 'NCMD';
export type DeviceMessageType = 'DBIRTH' | 'DDEATH' | 'DDATA' | 'DCMD';
export type MessageType = NodeMessageType | DeviceMessageType;

export interface EdgeIdentity {
  group: string;
  node: string;
}

export function nodeTopic(id: EdgeIdentity, type: NodeMessageType): string {
  return `${NAMESPACE}/${id.group}/${type}/${id.node}`;
}

export function deviceTopic(id: EdgeIdentity, type: DeviceMessageType, device: string): string {
  return `${NAMESPACE}/${id.group}/${type}/${id.node}/${device}`;
}

export function stateTopic(hostId: string): string {
  return `${NAMESPACE}/STATE/${hostId}`;
}

export type ParsedTopic =
  | { kind: 'node'; group: string; type: NodeMessageType; node: string }
  | { kind: 'device'; group: string; type: DeviceMessageType; node: string; device: string }
  | { kind: 'state'; hostId: string };

const NODE_TYPES = new Set(['NBIRTH', 'NDEATH', 'NDATA', 'NCMD']);
const DEVICE_TYPES = new Set(['DBIRTH', 'DDEATH', 'DDATA', 'DCMD']);

export function parseTopic(topic: string): ParsedTopic | undefined {
  const parts = topic.split('/');
  if (parts[0] !== NAMESPACE) return undefined;
  if (parts[1] === 'STATE' && parts.length === 3 && parts[2] !== '') return { kind: 'state', hostId: parts[2] as string };
  const [, group, type, node, device] = parts;
  if (group === undefined || type === undefined || node === undefined || group === '' || node === '') return undefined;
  if (parts.length === 4 && NODE_TYPES.has(type)) return { kind: 'node', group, type: type as NodeMessageType, node };
  if (parts.length === 5 && DEVICE_TYPES.has(type) && device !== undefined && device !== '') return { kind: 'device', group, type: type as DeviceMessageType, node, device };
  return undefined;
}
