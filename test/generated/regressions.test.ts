// Counterexamples of the generated-site property (issue 12), kept as named site files run
// through the same property. Add one here for every file the interop run prints.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestModbusServer } from '../../drivers/modbus/testing/tcp-server.js';
import { runSite } from './run-site.js';

const server = new TestModbusServer();
beforeAll(() => server.start());
afterAll(() => server.stop());

const site = (devices: string) => `version: 1
site: { group: gen, node: edge, nodeMetricsInterval: 1h }
observe: { http: { enabled: false } }
broker: { listeners: [ { host: 127.0.0.1, port: 0 } ] }
devices:${devices}
`;

const cases: Record<string, () => string> = {
  // The first report: untyped tags crashed the encoder (type undefined) at the first answer.
  'untyped-modbus-tags': () => `
  - name: press
    driver: modbus
    pollInterval: 100ms
    connection: { host: 127.0.0.1, port: ${server.port} }
    tags:
      - { name: running, table: coil, address: 0, writable: true }
      - { name: door-open, table: discrete, address: 4 }
      - { name: raw, address: 7 }
      - { name: modicon, address: "30002", scale: 0.1 }
`,
  // A bit table named only by a Modicon address, untyped, next to a scaled untyped register.
  'modicon-coil-untyped': () => `
  - name: plc
    driver: modbus
    pollInterval: 100ms
    connection: { host: 127.0.0.1, port: ${server.port}, unitId: 17, maxRegistersPerRequest: 4 }
    tags:
      - { name: c, address: "00010" }
      - { name: d, address: "10003" }
      - { name: h, address: "40001", scale: -1, offset: 273.15, deadband: "50%" }
`,
};

describe('generated-site regressions (issue 12)', () => {
  for (const [name, devices] of Object.entries(cases)) {
    it(name, async () => {
      const out = await runSite({ yaml: site(devices()), drivers: ['modbus'] }, { runMs: 500, settleMs: 5000 });
      expect(out.accepted).toBe(true);
      expect(out.problems).toEqual([]);
      expect(out.devicesOnline).toBe(out.devices);
    });
  }
});
