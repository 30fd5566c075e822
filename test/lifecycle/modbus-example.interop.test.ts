// Issue 12, "done when": drivers/modbus/example.yaml (with its untyped `running` and
// `door-open` tags) pointed at a pymodbus server runs for 60 s (FG_EXAMPLE_MS to change it)
// with every tag GOOD, every DBIRTH carrying values, no uncaught exception and no DATA outside
// a device's life. Every device keeps its tags; only its connection is pointed at pymodbus.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startPymodbus } from '../../drivers/modbus/testing/peers.js';
import { ROOT } from '../helpers/cli.js';
import { until } from '../helpers/until.js';
import { captureWorld, lifecycleViolations, nullBirths } from './capture.js';
import { useCleanups } from '../helpers/cleanups.js';

const RUN_MS = Number(process.env.FG_EXAMPLE_MS ?? 60_000);
const cleanups = useCleanups({ ignoreErrors: true });

describe('drivers/modbus/example.yaml against pymodbus (issue 12)', () => {
  it(`runs ${RUN_MS / 1000} s: every tag GOOD, births with values`, async () => {
    const peer = await startPymodbus(['tcp']);
    cleanups.push(() => peer.stop());
    const example = parse(readFileSync(`${ROOT}/drivers/modbus/example.yaml`, 'utf8')) as { devices: Array<Record<string, unknown> & { connection: Record<string, unknown> }> };
    const devices = example.devices.map((d) => ({
      ...d,
      // pymodbus serves unit 1 (typed registers) and unit 2 (plain) over TCP.
      connection: { host: '127.0.0.1', port: peer.port, unitId: d.connection.unitId === 2 ? 2 : 1 },
    }));
    const yaml = devices.map((d) => `\n  - ${JSON.stringify(d)}`).join('');
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    cleanups.push(async () => void process.off('uncaughtException', onUncaught));

    const world = await captureWorld(yaml);
    cleanups.push(world.stop);
    const names = example.devices.map((d) => String(d.name));
    await until(() => names.every((n) => world.messages().some((m) => m.type === 'DBIRTH' && m.device === n)), 20_000, 'a DBIRTH for every device');
    await new Promise((r) => setTimeout(r, RUN_MS));

    const snapshot = world.gateway.runtime.devices();
    expect(snapshot.map((d) => [d.name, d.state])).toEqual(names.map((n) => [n, 'online']));
    const notGood = snapshot.flatMap((d) => d.tags.filter((t) => t.quality !== 'GOOD').map((t) => `${d.name}/${t.name} ${t.quality} ${t.reason ?? ''}`));
    expect(notGood).toEqual([]);
    const ms = world.messages();
    expect(nullBirths(ms)).toEqual([]);
    expect(lifecycleViolations(ms)).toEqual([]);
    // No tag was ever reported BAD over the run.
    const badData = ms.filter((m) => m.type === 'DDATA' && (m.p.metrics ?? []).some((x) => x.isNull === true));
    expect(badData).toEqual([]);
    expect(world.messages().filter((m) => m.type === 'DDEATH')).toEqual([]);
    expect(uncaught).toEqual([]);
  }, RUN_MS + 60_000);
});
