// The peers generated site files run against: one modbus-serial TCP server (every unit, every
// address answers, registers filled with a fixed pseudo-random pattern), one node-opcua server,
// and per lane a socat pty with a Python instrument.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { TestModbusServer } from '../../drivers/modbus/testing/tcp-server.js';
import { OpcuaTestServer } from '../../drivers/opcua/testing/server-fixture.js';
import { PtyPair } from '../../drivers/serial/testing/pty-fixture.js';
import type { Peers } from './site-arbitrary.js';

export interface World {
  lanes: Peers[];
  stop(): Promise<void>;
}

export async function startWorld(lanes: number, withOpcua: boolean): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'fg-gen-world-'));
  const modbus = new TestModbusServer();
  await modbus.start();
  const fill = (unit: number) => {
    const bank = modbus.unit(unit);
    let x = 0x1234 + unit;
    for (let a = 0; a < 400; a++) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      bank.holding[a] = x & 0xffff;
      bank.input[a] = (x >> 8) & 0xffff;
      bank.coil[a] = x & 1;
      bank.discrete[a] = (x >> 3) & 1;
    }
  };
  for (let u = 0; u <= 247; u++) fill(u);
  const opcua = withOpcua ? new OpcuaTestServer({ pki: join(dir, 'server-pki') }) : undefined;
  const info = await opcua?.start();
  const ptys: PtyPair[] = [];
  for (let i = 0; i < lanes; i++) {
    const pty = new PtyPair();
    await pty.up();
    await pty.peer('instrument');
    ptys.push(pty);
  }
  return {
    lanes: ptys.map((pty, i) => ({
      modbusPort: modbus.port,
      serialPath: pty.device,
      ...(info !== undefined ? { opcuaEndpoint: info.endpoint, opcuaPki: join(dir, `client-pki-${i}`) } : {}),
    })),
    stop: async () => {
      for (const p of ptys) await p.close();
      await opcua?.stop();
      await modbus.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The peers of one test file, started before its tests (within `startMs`) and stopped after;
 * every uncaught exception meanwhile is collected in `uncaught` (a generated file must cause none).
 */
export function useWorld(lanes: number, startMs: number): { world: () => World; uncaught: unknown[] } {
  let world: World | undefined;
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown) => uncaught.push(e);
  beforeAll(async () => {
    process.on('uncaughtException', onUncaught);
    world = await startWorld(lanes, true);
  }, startMs);
  afterAll(async () => {
    process.off('uncaughtException', onUncaught);
    await world?.stop();
  });
  return { world: () => world as World, uncaught };
}
