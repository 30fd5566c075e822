// NCMD and DCMD (spec 4.2.1.4, 4.2.2.4): what a host asks of the edge node. A rebirth request
// is `Node Control/Rebirth` = true, by name [tck-id-operational-behavior-data-commands-ncmd-rebirth-name]
// [tck-id-operational-behavior-data-commands-ncmd-rebirth-value]; writes name metrics by alias
// or by name. Nothing here acts: it turns a payload into actions, each with its own verdict.
import { DataType } from './datatypes.js';
import type { MetricIndex } from './metric-index.js';
import { REBIRTH_METRIC } from './nbirth.js';
import { decodePayload, type DecodedMetric, type SpValue } from './payload.js';

export type CommandAction =
  | { kind: 'rebirth' }
  | { kind: 'write'; device: string; metric: string; value: SpValue }
  | { kind: 'refused'; device: string | undefined; metric: string; reason: string };

function label(m: DecodedMetric): string {
  return m.name ?? (m.alias !== undefined ? `alias ${m.alias}` : '(unnamed)');
}

export function parseCommand(payload: Buffer, device: string | undefined, index: MetricIndex): CommandAction[] {
  const decoded = decodePayload(payload);
  const actions: CommandAction[] = [];
  for (const m of decoded.metrics) {
    if (device === undefined && m.name === REBIRTH_METRIC) {
      if (m.value(DataType.Boolean) === true) actions.push({ kind: 'rebirth' });
      else actions.push({ kind: 'refused', device, metric: REBIRTH_METRIC, reason: 'a rebirth request must be true' });
      continue;
    }
    const target = m.alias !== undefined ? index.byAliasOf(m.alias) : m.name !== undefined ? index.get(device, m.name) : undefined;
    if (target === undefined || target.device !== device) {
      actions.push({ kind: 'refused', device, metric: label(m), reason: `no such metric on ${device ?? 'the edge node'}` });
      continue;
    }
    if (target.device === undefined) {
      actions.push({ kind: 'refused', device, metric: target.def.name, reason: 'edge node metrics are read-only' });
      continue;
    }
    if (!target.def.writable) {
      actions.push({ kind: 'refused', device, metric: target.def.name, reason: 'metric is not writable' });
      continue;
    }
    let value: SpValue | null | undefined;
    try {
      value = m.value(target.def.type);
    } catch {
      value = undefined; // a malformed array body: reported below like a missing value
    }
    if (value === undefined || value === null) {
      actions.push({ kind: 'refused', device, metric: target.def.name, reason: `no value of the metric's datatype (${target.def.type})` });
      continue;
    }
    // Int8/Int16 travel in the 32-bit int_value as two's complement (spec 6.4.16); narrowing
    // it silently wrapped 70000 to 4464 (issue 19). A value that only fits by wrapping is refused.
    const narrow = target.def.type === DataType.Int8 ? 'Int8' : target.def.type === DataType.Int16 ? 'Int16' : undefined;
    if (narrow !== undefined && value !== m.value(DataType.Int32)) {
      actions.push({ kind: 'refused', device, metric: target.def.name, reason: `value ${String(m.value(DataType.Int32))} does not fit ${narrow}` });
      continue;
    }
    actions.push({ kind: 'write', device: target.device, metric: target.def.name, value });
  }
  return actions;
}
