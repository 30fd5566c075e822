// Issue 14, done-when: 100 simulated edge nodes through one host, every sample stored exactly
// once across a host kill -9. The host runs as `fieldgate host run` (a child process) on a
// persistent session; Mosquitto upgrades the QoS 0 DATA to the host's QoS 1 subscription, so
// what the killed host had not acknowledged (= not committed) is delivered again.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { CLI, startCli, type RunningCli } from '../helpers/cli.js';
import { FLEET_TS0, FleetNode } from '../helpers/fleet.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { freePort } from '../helpers/ports.js';

const dir = mkdtempSync(join(tmpdir(), 'fg-host-fleet-'));
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function hostStats(port: number): Promise<{ connected: boolean; stats: { stored: number; dedupDrops: number } } | undefined> {
  try {
    return (await (await fetch(`http://127.0.0.1:${port}/api/nodes`)).json()) as { connected: boolean; stats: { stored: number; dedupDrops: number } };
  } catch {
    return undefined;
  }
}

describe('100 edge nodes through one host', () => {
  it('stores every sample exactly once across a kill -9 of the host', async () => {
    const NODES = 100;
    const METRICS = 10;
    const mosq = await Mosquitto.start({ persistent: true, extra: ['max_inflight_messages 0', 'upgrade_outgoing_qos true', 'queue_qos0_messages true'] });
    cleanups.push(() => mosq.close());
    const http = await freePort();
    // Batches of a second: at the kill there is always a second of received, uncommitted
    // messages, which only held PUBACKs get back (without them this test loses samples).
    const hostFile = join(dir, 'host.yaml');
    writeFileSync(hostFile, `version: 1\nhost:\n  id: scada-fleet\n  broker: { url: ${mosq.url} }\n  store: { path: ${join(dir, 'host.db')} }\n  http: { port: ${http} }\n  batch: { maxDelay: 1s, maxSamples: 100000 }\n`);
    let host: RunningCli = startCli(['host', 'run', '--config', hostFile, '--log-level', 'warn']);
    cleanups.push(async () => {
      if (host.child.exitCode === null && host.child.signalCode === null) {
        host.child.kill('SIGKILL');
        await host.exited;
      }
    });
    const connected = async (): Promise<void> => {
      for (const t0 = Date.now(); (await hostStats(http))?.connected !== true; await sleep(100)) if (Date.now() - t0 > 20_000) throw new Error('host never connected');
    };
    await connected();

    const fleet = Array.from({ length: NODES }, (_, i) => new FleetNode(mosq.url, 'fleet', `n${i}`, METRICS));
    cleanups.push(async () => {
      for (const n of fleet) await n.end();
    });
    await Promise.all(fleet.map((n) => n.ready()));
    for (const n of fleet) n.birth();
    let stop = false;
    const producing = (async () => {
      // 100 nodes x 10 metrics x 10 messages/s = 10,000 samples/s.
      while (!stop) {
        for (const n of fleet) n.data();
        await sleep(100);
      }
    })();
    await sleep(2500);
    host.child.kill('SIGKILL');
    await host.exited;
    await sleep(1500);
    host = startCli(['host', 'run', '--config', hostFile, '--log-level', 'warn']);
    await connected();
    await sleep(2000);
    stop = true;
    await producing;
    // Every DATA sample, and each birth value once (key 0; docs/host.md, "Births").
    const expected = fleet.reduce((s, n) => s + (n.key + 1) * METRICS, 0);
    let last = -1;
    for (const t0 = Date.now(); ; await sleep(300)) {
      const s = await hostStats(http);
      if (s !== undefined && s.stats.stored === last) break;
      last = s?.stats.stored ?? -1;
      if (Date.now() - t0 > 60_000) break;
    }
    const drops = (await hostStats(http))?.stats.dedupDrops ?? 0;
    host.child.kill('SIGTERM');
    await host.exited;

    const out = spawnSync(process.execPath, [CLI, 'host', 'export', '--config', hostFile, '--format', 'jsonl'], { encoding: 'utf8', maxBuffer: 1 << 28, timeout: 60_000 });
    expect(out.status, out.stderr).toBe(0);
    const rows = out.stdout.trim().split('\n').map((l) => JSON.parse(l) as { node: string; metric: string; timestamp: number; value: number; historical: boolean });
    const ids = new Set<string>();
    let dups = 0;
    for (const r of rows) {
      const id = `${r.node}|${r.metric}|${r.timestamp}`;
      if (ids.has(id)) dups += 1;
      ids.add(id);
      const key = r.timestamp - FLEET_TS0;
      expect(r.value).toBe(key * 1000 + Number(r.metric.slice(1)));
    }
    expect(dups, 'stored twice').toBe(0);
    const missing: string[] = [];
    for (const n of fleet) for (let k = 0; k <= n.key; k++) for (let m = 0; m < METRICS; m++) if (!ids.has(`fleet/${n.node}|m${m}|${FLEET_TS0 + k}`)) missing.push(`${n.node}/${k}/m${m}`);
    expect(missing.slice(0, 10), `${missing.length} missing`).toEqual([]);
    expect(rows.length).toBe(expected);
    process.stderr.write(`host fleet: ${NODES} nodes, ${rows.length} samples stored once, ${drops} redelivered duplicates dropped after the kill -9\n`);
  }, 120_000);
});
