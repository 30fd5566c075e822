// Issue 12, the Sparkplug device lifecycle as a host sees it, with an independent peer: a
// node-opcua server (subscription and poll mode, a server restart, a failed first connect).
// Interop suite: node-opcua start-ups and restarts take ~45 s. Serial: serial-lifecycle.test.ts. In every capture: no DATA for a device without a live DBIRTH, no DBIRTH of nulls, no
// DDATA that only repeats the DBIRTH before it.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpcuaTestServer } from '../../drivers/opcua/testing/server-fixture.js';
import { freePort } from '../helpers/ports.js';
import { until } from '../helpers/until.js';
import { birthValues, births, captureWorld, expectCleanLifecycle, useLifecycleScratch } from './capture.js';

const { dir, cleanups } = useLifecycleScratch();

describe('OPC UA device lifecycle (node-opcua server)', () => {
  let port: number;
  const server = new OpcuaTestServer({ pki: join(dir, 'server-pki') });
  beforeAll(async () => {
    port = await freePort();
  });
  afterAll(() => server.stop());

  const device = (mode: 'subscribe' | 'poll') => `
  - name: plc
    driver: opcua
    pollInterval: 200ms
    timeout: 5s
    backoff: { initial: 200ms, max: 500ms }
    connection:
      endpoint: opc.tcp://127.0.0.1:${port}
      pki: ${join(dir, 'client-pki')}
      mode: ${mode}
      publishingInterval: 100ms
      samplingInterval: 50ms
    tags:
      - { name: counter, type: uint32, nodeId: 'ns=1;s=Counter' }
      - { name: stamped, type: float32, nodeId: 'ns=1;s=Stamped' }
`;

  for (const mode of ['subscribe', 'poll'] as const) {
    it(`${mode} mode: failed first connect, then a server restart: every birth carries values, no DATA while unborn`, async () => {
      // The server is not there yet: the first connects fail.
      await server.stop();
      const world = await captureWorld(device(mode));
      cleanups.push(world.stop);
      await until(() => world.gateway.runtime.devices()[0]!.pollErrors > 0 || world.gateway.runtime.devices()[0]!.state === 'offline', 15_000, 'a failed first connect');
      await server.start(port);
      await until(() => births(world.messages(), 'plc').length >= 1, 20_000, 'the first DBIRTH');
      await until(() => world.messages().some((m) => m.type === 'DDATA' && m.device === 'plc'), 10_000, 'DDATA');
      // The server restarts: the device dies and is born again with fresh values.
      await server.stop();
      await until(() => world.messages().some((m) => m.type === 'DDEATH' && m.device === 'plc'), 20_000, 'DDEATH');
      await new Promise((r) => setTimeout(r, 300));
      await server.start(port);
      await until(() => births(world.messages(), 'plc').length >= 2, 30_000, 'the DBIRTH after the restart');
      await new Promise((r) => setTimeout(r, 500));
      const ms = world.messages();
      expectCleanLifecycle(ms);
      for (const b of births(ms, 'plc')) expect(birthValues(b).get('stamped')?.value).toBeCloseTo(1.5, 5);
    }, 90_000);
  }
});
