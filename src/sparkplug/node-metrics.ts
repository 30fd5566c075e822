// The edge node's own metrics, announced in NBIRTH and refreshed by NDATA: what a control
// room wants to know about the box itself (issue 5: version, uptime, link, backlog, drops,
// devices, commands).
import { DataType } from './datatypes.js';
import type { MetricDefinition } from './metric-model.js';
import type { SpValue } from './payload.js';

export const NODE_METRICS = [
  { name: 'Node Info/Version', type: DataType.String, writable: false },
  { name: 'Node Info/Uptime', type: DataType.Int64, unit: 's', writable: false },
  { name: 'Upstream/Reconnects', type: DataType.UInt64, writable: false },
  { name: 'Store/Backlog Messages', type: DataType.UInt64, writable: false },
  { name: 'Store/Backlog Bytes', type: DataType.UInt64, unit: 'B', writable: false },
  { name: 'Store/Oldest Age', type: DataType.Int64, unit: 'ms', writable: false },
  { name: 'Store/Dropped', type: DataType.UInt64, writable: false },
  { name: 'Devices/Online', type: DataType.UInt32, writable: false },
  { name: 'Devices/Total', type: DataType.UInt32, writable: false },
  { name: 'Commands/Received', type: DataType.UInt64, writable: false },
  { name: 'Commands/Failed', type: DataType.UInt64, writable: false },
  { name: 'Commands/Last Result', type: DataType.String, writable: false },
] as const satisfies readonly MetricDefinition[];

export type NodeMetricName = (typeof NODE_METRICS)[number]['name'];

export type NodeMetricValues = Record<NodeMetricName, SpValue>;
