// A whole gateway in this process, from a site file written for the test, talking to a test
// upstream on loopback.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinDrivers } from '../../drivers/all.js';
import { parseConfigText } from '../../src/config/load.js';
import { Gateway } from '../../src/gateway.js';
import { silentLogger } from '../../src/observe/logger.js';

export interface FixtureOptions {
  url: string;
  dir?: string;
  primaryHost?: string;
  devices?: string;
  protocolVersion?: 4 | 5;
  /** upstream.confirm; unset: the default (qos1). */
  confirm?: 'qos1' | 'host' | 'fence';
}

export const DEFAULT_DEVICES = `
  - name: pump
    driver: simulator
    pollInterval: 100ms
    tags:
      - { name: count, type: uint32, signal: { kind: counter } }
      - { name: sp, type: int16, scale: 0.1, unit: bar, writable: true, signal: { kind: constant, value: 50 } }
`;

export function siteYaml(o: FixtureOptions & { dir: string }): string {
  return `version: 1
site: { group: plant, node: edge-1, nodeMetricsInterval: 1h${o.primaryHost !== undefined ? `, primaryHost: ${o.primaryHost}` : ''} }
observe: { http: { enabled: false } }
store: { path: ${join(o.dir, 'fg.db')} }
upstream:
  url: ${o.url}
  protocolVersion: ${o.protocolVersion ?? 4}${o.confirm !== undefined ? `\n  confirm: ${o.confirm}` : ''}
  reconnect: { min: 50ms, max: 200ms }
  keepalive: 5s
devices:${o.devices ?? DEFAULT_DEVICES}`;
}

export async function startGateway(o: FixtureOptions): Promise<{ gateway: Gateway; dir: string; stop: () => Promise<void> }> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'fg-spb-e2e-'));
  const config = parseConfigText(siteYaml({ ...o, dir }), join(dir, 'site.yaml'), builtinDrivers);
  const gateway = new Gateway({ config, drivers: builtinDrivers, logger: silentLogger() });
  await gateway.start();
  let stopped = false;
  return {
    gateway,
    dir,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await gateway.stop();
    },
  };
}
