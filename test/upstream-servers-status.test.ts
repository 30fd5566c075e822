// Issue 17 through the whole gateway: `upstream.servers` from a site file, the first server
// down, the gateway born on the second, and /status.json and /metrics saying which server is
// live (URLs without credentials), why the other was left, and how many switches there were.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StatusSnapshot } from '../src/observe/status-model.js';
import { AedesUpstream } from './helpers/aedes-upstream.js';
import { freePort } from './helpers/ports.js';
import { until } from './helpers/until.js';
import { useCleanups } from './helpers/cleanups.js';
import { runGateway } from './helpers/gateway.js';

const cleanups = useCleanups({ ignoreErrors: true });

describe('upstream.servers in a running gateway', () => {
  it('moves past a dead first server, and the status page and metrics show the list and the live one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-servers-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const dead = `mqtt://user:s3cret-pw@127.0.0.1:${await freePort()}`;
    const live = await AedesUpstream.started(cleanups);
    const yaml = `version: 1
site: { group: plant, node: edge-1, nodeMetricsInterval: 1h }
observe: { http: { host: 127.0.0.1, port: 0 } }
store: { path: ${join(dir, 'fg.db')} }
upstream:
  servers: [ { url: "${dead}" }, { url: "${live.url}" } ]
  protocolVersion: 4
  reconnect: { min: 100ms, max: 1s }
devices:
  - { name: pump, driver: simulator, pollInterval: 100ms, tags: [ { name: count, type: uint32, signal: { kind: counter } } ] }
`;
    const gw = await runGateway(yaml, dir, cleanups, { env: {} });
    const base = `http://127.0.0.1:${gw.observeAddress?.port ?? 0}`;
    await until(() => live.received.some((r) => r.topic === 'spBv1.0/plant/NBIRTH/edge-1'), 10_000, 'births on the second server');
    const s = (await (await fetch(`${base}/status.json`)).json()) as StatusSnapshot;
    expect(s.upstream?.connected).toBe(true);
    expect(s.upstream?.switches).toBe(1);
    expect(s.upstream?.servers?.map((x) => [x.url, x.live, x.lastLeft])).toEqual([
      [dead.replace('user:s3cret-pw@', ''), false, 'connection'],
      [live.url, true, undefined],
    ]);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain(`fieldgate_upstream_server_live{server="${live.url}"} 1`);
    expect(metrics).toContain('fieldgate_upstream_switches_total{reason="connection"} 1');
    expect(metrics + JSON.stringify(s)).not.toContain('s3cret-pw');
  }, 30_000);
});
