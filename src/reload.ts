// SIGHUP reload (issue 20): apply the difference between the running config and a new, valid
// one without a restart. Devices added, removed or changed are started and stopped one by one
// (a changed device gets a new DBIRTH, a removed one a DDEATH, the node no NDEATH); broker
// users, ACLs and limits apply to new operations. The outbox and the local broker's sessions
// are never touched. Sections that cannot change live are named in the summary.
import type { Broker } from './broker/index.js';
import type { GatewayConfig } from './config/schema.js';
import type { DeviceConfig } from './config/sections/devices.js';
import type { Clock } from './shared/clock.js';
import type { Runtime } from './runtime/runtime.js';
import type { EdgeNode } from './sparkplug/edge-node.js';

export interface ReloadPlan {
  added: DeviceConfig[];
  removed: string[];
  changed: DeviceConfig[];
  /** Broker users, ACLs or limits differ. */
  brokerAccess: boolean;
  /** Sections that differ but only apply at the next start. */
  restartNeeded: string[];
  /** Sections applied by a clean reconnect (the upstream session). */
  reconnected: string[];
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export function planReload(current: GatewayConfig, next: GatewayConfig): ReloadPlan {
  const running = new Map(current.devices.filter((d) => d.enabled).map((d) => [d.name, d]));
  const wanted = new Map(next.devices.filter((d) => d.enabled).map((d) => [d.name, d]));
  const added = [...wanted.values()].filter((d) => !running.has(d.name));
  const removed = [...running.keys()].filter((n) => !wanted.has(n));
  const changed = [...wanted.values()].filter((d) => running.has(d.name) && !same(running.get(d.name), d));

  const restartNeeded: string[] = [];
  for (const section of ['site', 'store', 'upstream', 'local', 'observe'] as const) {
    if (!same(current[section], next[section])) restartNeeded.push(section);
  }
  const cb = current.broker;
  const nb = next.broker;
  let brokerAccess = false;
  if ((cb === undefined) !== (nb === undefined)) restartNeeded.push('broker');
  else if (cb !== undefined && nb !== undefined) {
    const { users: cu, acls: ca, limits: cl, passwordFile: cp, ...cRest } = cb;
    const { users: nu, acls: na, limits: nl, passwordFile: np, ...nRest } = nb;
    // A password file is re-read on every reload: its content may have changed, not its name.
    brokerAccess = !same([cu, ca, cl], [nu, na, nl]) || np !== undefined || cp !== np;
    if (!same(cRest, nRest)) restartNeeded.push('broker.listeners');
  }
  return { added, removed, changed, brokerAccess, restartNeeded, reconnected: [] };
}

export interface ReloadParts {
  runtime: Runtime;
  /** The upstream and local Sparkplug edge nodes that exist. */
  edgeNodes: readonly EdgeNode[];
  broker: Broker | undefined;
  clock: Clock;
}

/** Applies a plan; the broker's access rules first, so a failing password file changes nothing. */
export async function applyReload(plan: ReloadPlan, next: GatewayConfig, parts: ReloadParts): Promise<void> {
  if (plan.brokerAccess && parts.broker !== undefined && next.broker !== undefined) parts.broker.applyAccess(next.broker);
  for (const name of plan.removed) {
    await parts.runtime.removeDevice(name);
    const at = parts.clock.now();
    for (const edge of parts.edgeNodes) edge.deviceRemoved(name, at);
  }
  for (const device of plan.changed) {
    // Stopped before it is re-indexed: none of its old readings meets the new metric list.
    await parts.runtime.removeDevice(device.name);
    for (const edge of parts.edgeNodes) edge.deviceConfigured(device);
    parts.runtime.addDevice(device);
  }
  for (const device of plan.added) {
    for (const edge of parts.edgeNodes) edge.deviceConfigured(device);
    parts.runtime.addDevice(device);
  }
}

/** The one log line's fields. */
export function summary(plan: ReloadPlan): Record<string, unknown> {
  return {
    added: plan.added.map((d) => d.name),
    removed: plan.removed,
    changed: plan.changed.map((d) => d.name),
    brokerAccess: plan.brokerAccess,
    ...(plan.reconnected.length > 0 ? { reconnected: plan.reconnected } : {}),
    ...(plan.restartNeeded.length > 0 ? { restartNeeded: plan.restartNeeded } : {}),
  };
}
