// A readable rendering of what the driver will send for a device: one line per request.
// Used by the testcases/ regression folders and handy when debugging a register map.
import { lineKey } from './line.js';
import { planReads, type PlanItem, type Table } from './planner.js';
import { resolveTag, type ModbusDevice } from './schema.js';

const FC: Record<Table, number> = { coil: 1, discrete: 2, holding: 3, input: 4 };

export function describePlan(device: ModbusDevice): string {
  const c = device.connection;
  const tags = device.tags.map(resolveTag);
  const items: PlanItem[] = tags.map((t) => ({ id: t.name, table: t.table, address: t.address, count: t.count }));
  const plan = planReads(items, {
    maxRegisters: c.maxRegistersPerRequest,
    maxBits: c.maxBitsPerRequest,
    registerGap: c.registerGap,
    bitGap: c.bitGap,
  });
  const out = [`device ${device.name} (${lineKey(c)} unit ${c.unitId})`];
  for (const r of plan.requests) {
    out.push(`  FC${FC[r.table]} ${r.table} ${r.address}+${r.count}: ${r.items.map((i) => i.id).join(', ')}`);
  }
  for (const u of plan.unreadable) out.push(`  unreadable ${u.item.id}: ${u.reason}`);
  return out.join('\n');
}
