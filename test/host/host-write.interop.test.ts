// Issue 14: `fieldgate host write G/N/D METRIC=VALUE` against a real fieldgate gateway: the host
// learns the metric from the birth (asked for by its rebirth request when it joined late), the
// DCMD reaches the device, and the new value comes back in DDATA and into the history.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, startCli, type RunningCli } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { loopbackBroker, statusPageOn, writeSite } from '../helpers/site-yaml.js';

const dir = mkdtempSync(join(tmpdir(), 'fg-host-write-'));
const procs: RunningCli[] = [];
afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) {
    p.child.kill('SIGTERM');
    await p.exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('fieldgate host write', () => {
  it('sends a DCMD to a fieldgate gateway and sees the echo in DDATA', async () => {
    const local = await freePort();
    const pump = `
  - name: pump
    driver: simulator
    pollInterval: 200ms
    connection: { seed: 1 }
    tags:
      - { name: setpoint, signal: { kind: constant, value: 75 }, writable: true }
      - { name: ticks, type: uint32, signal: { kind: counter, start: 0, step: 1 } }
`;
    const observe = statusPageOn(await freePort(), 'logLevel: warn');
    const site = writeSite(dir, { site: '{ group: wg, node: wn }', observe, broker: loopbackBroker(local), store: `{ path: ${join(dir, 'site.db')} }`, devices: pump });
    const hostHttp = await freePort();
    const hostFile = join(dir, 'host.yaml');
    // The host on the gateway's own broker (as config/host-demo.yaml beside the demo).
    writeFileSync(hostFile, `version: 1\nhost:\n  id: scada-w\n  broker: { url: mqtt://127.0.0.1:${local}, protocolVersion: 4 }\n  store: { path: ${join(dir, 'host.db')} }\n  http: { port: ${hostHttp} }\n`);
    procs.push(startCli(['run', '--config', site]));
    await new Promise((r) => setTimeout(r, 1500));
    procs.push(startCli(['host', 'run', '--config', hostFile, '--log-level', 'warn']));
    let nodes: Array<{ node: string; devices: Array<{ device: string; online: boolean }>; counters: { rebirthsRequested: number } }> = [];
    const t0 = Date.now();
    while (!nodes.some((n) => n.devices.some((d) => d.device === 'pump' && d.online))) {
      if (Date.now() - t0 > 20_000) throw new Error(`host never saw the device: ${JSON.stringify(nodes)}`);
      await new Promise((r) => setTimeout(r, 200));
      nodes = await fetch(`http://127.0.0.1:${hostHttp}/api/nodes`).then((r) => r.json() as Promise<{ nodes: typeof nodes }>, () => ({ nodes: [] })).then((x) => x.nodes);
    }
    // It joined after the births: the first DATA asked for one rebirth.
    expect(nodes[0]?.counters.rebirthsRequested).toBe(1);
    // The birth catalogue reaches the file with the next commit.
    await new Promise((r) => setTimeout(r, 500));
    const w = runCli(['host', 'write', '--config', hostFile, 'wg/wn/pump', 'setpoint=42']);
    expect(w.stderr).toBe('');
    expect(w.code).toBe(0);
    expect(JSON.parse(w.stdout)).toMatchObject({ written: 'wg/wn/pump setpoint', value: 42 });
    const bad = runCli(['host', 'write', '--config', hostFile, 'wg/wn/pump', 'nope=1']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('names metric "nope"');
    await new Promise((r) => setTimeout(r, 300));
    const out = runCli(['host', 'export', '--config', hostFile, '--metric', 'setpoint', '--format', 'jsonl']);
    expect(out.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { value: number }).value)).toContain(42);
  }, 60_000);
});
