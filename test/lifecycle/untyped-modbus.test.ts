// Issue 12: a Modbus tag without `type:` crashed the whole gateway ("cannot encode a value of
// datatype undefined") as soon as the device answered. The type defaults at config load (bool
// on coils and discrete inputs, uint16 on registers) so every consumer sees one; a real
// modbus-serial server answers, a real gateway publishes to aedes.
import { describe, expect, it } from 'vitest';
import { builtinDrivers } from '../../drivers/all.js';
import { TestModbusServer } from '../../drivers/modbus/testing/tcp-server.js';
import { parseConfigText } from '../../src/config/load.js';
import { until } from '../helpers/until.js';
import { birthValues, captureWorld, lifecycleViolations } from './capture.js';
import { useCleanups } from '../helpers/cleanups.js';

const cleanups = useCleanups({ ignoreErrors: true });

const devices = (port: number) => `
  - name: press
    driver: modbus
    connection: { host: 127.0.0.1, port: ${port}, unitId: 1 }
    pollInterval: 100ms
    tags:
      - { name: running, table: coil, address: 0, writable: true }
      - { name: door-open, table: discrete, address: 4 }
      - { name: count, table: holding, address: 7 }
      - { name: level, table: input, address: 3 }
      - { name: modicon, address: "40002" }
`;

/** Each tag of `devices`: where the server holds it, the raw value there, what the DBIRTH says. */
const VALUES = [
  { tag: 'running', table: 'coil', address: 0, raw: 1, value: true },
  { tag: 'door-open', table: 'discrete', address: 4, raw: 1, value: true },
  { tag: 'count', table: 'holding', address: 7, raw: 1234, value: 1234 },
  { tag: 'level', table: 'input', address: 3, raw: 42, value: 42 },
  { tag: 'modicon', table: 'holding', address: 1, raw: 7, value: 7 },
] as const;

describe('untyped Modbus tags (issue 12)', () => {
  it('resolve their default type at config load, for every consumer', () => {
    const config = parseConfigText(`version: 1\nsite: { group: g, node: n }\ndevices:${devices(502)}`, 'site.yaml', builtinDrivers);
    expect(config.devices[0]!.tags.map((t) => t.type)).toEqual(['bool', 'bool', 'uint16', 'uint16', 'uint16']);
  });

  it('run: every tag GOOD, the DBIRTH carries values, no uncaught exception', async () => {
    const server = await TestModbusServer.started(cleanups);
    const unit = server.unit(1);
    for (const v of VALUES) unit[v.table][v.address] = v.raw;
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    cleanups.push(async () => void process.off('uncaughtException', onUncaught));

    const world = await captureWorld(devices(server.port));
    cleanups.push(world.stop);
    const birthWithValues = () => world.messages().find((m) => m.type === 'DBIRTH' && m.device === 'press' && !birthValues(m).get('count')?.isNull);
    await until(() => birthWithValues() !== undefined, 10_000, 'a DBIRTH with values');
    const birth = birthValues(birthWithValues()!);
    for (const v of VALUES) expect(birth.get(v.tag)?.value, v.tag).toBe(v.value);
    const snap = world.gateway.runtime.devices()[0]!;
    expect(snap.state).toBe('online');
    expect(snap.tags.every((t) => t.quality === 'GOOD')).toBe(true);
    expect(uncaught).toEqual([]);
    expect(lifecycleViolations(world.messages())).toEqual([]);
  });
});
