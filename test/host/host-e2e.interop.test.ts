// Issue 14, "Interop and faults": two real fieldgate gateways → Mosquitto → `fieldgate host`,
// all three as the CLI users run. Broker outage, kill -9 of a gateway and of the host, restarts;
// then the export must hold every value the gateways' local brokers carried, exactly once,
// with the values produced during the outage flagged historical.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { watch } from '../../src/watch.js';
import { runCli, startCli, type RunningCli } from '../helpers/cli.js';
import { Mosquitto } from '../helpers/mosquitto.js';
import { freePort } from '../helpers/ports.js';
import { until } from '../helpers/until.js';

interface Seen {
  node: string;
  device: string;
  metric: string;
  ts: number;
  value: unknown;
}

const dir = mkdtempSync(join(tmpdir(), 'fg-host-e2e-'));
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

function siteFile(name: string, node: string, localPort: number, httpPort: number, upstream: string, primaryHost: boolean): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `version: 1
site: { group: e2e, node: ${node}${primaryHost ? ', primaryHost: scada-e2e' : ''} }
observe: { http: { host: 127.0.0.1, port: ${httpPort} }, logLevel: warn }
broker: { listeners: [ { host: 127.0.0.1, port: ${localPort} } ] }
store: { path: ${join(dir, name + '.db')} }
upstream: { url: ${upstream}, protocolVersion: 5, inflight: 50, reconnect: { min: 200ms, max: 1s } }
devices:
  - name: pump
    driver: simulator
    pollInterval: 50ms
    connection: { seed: 1 }
    tags:
      - { name: starts, type: uint32, signal: { kind: counter, start: 0, step: 1 } }
      - { name: flow, signal: { kind: sine, min: 10, max: 50, period: 7s } }
`,
  );
  return file;
}

async function apiNodes(port: number): Promise<Array<{ node: string; online: boolean; counters: Record<string, number>; dedupDrops: number; confirmation?: { through: number } }>> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/api/nodes`);
    return ((await r.json()) as { nodes: [] }).nodes;
  } catch {
    return [];
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('fieldgate host with two real gateways through Mosquitto', () => {
  it('stores every value exactly once across a broker outage and kill -9 of a gateway and of the host', async () => {
    // upgrade_outgoing_qos: Sparkplug DATA is QoS 0, the host subscribes at QoS 1 with a
    // persistent session; upgraded, what the host had not acknowledged is redelivered after its
    // kill -9 (docs/host.md, "Exactly once").
    const mosq = await Mosquitto.start({ persistent: true, extra: ['max_inflight_messages 0', 'upgrade_outgoing_qos true', 'queue_qos0_messages true'] });
    cleanups.push(() => mosq.close());
    const hostHttp = await freePort();
    const hostFile = join(dir, 'host.yaml');
    writeFileSync(hostFile, `version: 1\nhost:\n  id: scada-e2e\n  broker: { url: ${mosq.url} }\n  store: { path: ${join(dir, 'host.db')} }\n  http: { host: 127.0.0.1, port: ${hostHttp} }\n  rebirthInterval: 1s\n`);
    expect(runCli(['validate', hostFile]).code).toBe(0);

    const procs = new Map<string, RunningCli>();
    const start = (name: string, args: string[]): RunningCli => {
      const p = startCli(args);
      procs.set(name, p);
      return p;
    };
    cleanups.push(async () => {
      for (const p of procs.values()) if (p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill('SIGKILL');
        await p.exited;
      }
    });
    start('host', ['host', 'run', '--config', hostFile, '--log-level', 'warn']);
    // The host's session must exist before the first DATA, or the broker has no one to keep it for.
    for (let t0 = Date.now(); !(await fetch(`http://127.0.0.1:${hostHttp}/api/nodes`).then((r) => r.json() as Promise<{ connected: boolean }>, () => ({ connected: false }))).connected; ) {
      if (Date.now() - t0 > 20_000) throw new Error('host never connected');
      await sleep(100);
    }
    const gw = [
      { name: 'a', node: 'gw-a', local: await freePort(), http: await freePort(), primaryHost: true },
      { name: 'b', node: 'gw-b', local: await freePort(), http: await freePort(), primaryHost: false },
    ];
    const seen: Seen[] = [];
    for (const g of gw) {
      const file = siteFile(g.name, g.node, g.local, g.http, mosq.url, g.primaryHost);
      start(g.name, ['run', '--config', file]);
      // What the local broker carries: the reference the export is compared with.
      const w = watch({
        url: `mqtt://127.0.0.1:${g.local}`,
        topic: 'spBv1.0/#',
        // Asks the local edge for births once, so alias-only DATA can be named.
        rebirth: true,
        onError: () => undefined,
        write: (line) => {
          const m = JSON.parse(line) as { topic: string; type?: string; metrics?: Array<{ name?: string; value: unknown; timestamp?: number }> };
          if (m.type !== 'DDATA') return;
          const device = m.topic.split('/')[4] ?? '';
          // A watcher that reconnected after the births cannot name alias-only metrics (watch prints
          // them without a name, `unknownAlias: true`): skip those.
          for (const x of m.metrics ?? []) if (x.timestamp !== undefined && x.name !== undefined) seen.push({ node: `e2e/${g.node}`, device, metric: x.name, ts: x.timestamp, value: x.value });
        },
      });
      cleanups.push(() => w.stop());
    }
    const stored = async (node: string): Promise<number> => (await apiNodes(hostHttp)).find((n) => n.node === node)?.counters.messages ?? 0;
    for (const g of gw) {
      const t0 = Date.now();
      while ((await stored(`e2e/${g.node}`)) < 20) {
        if (Date.now() - t0 > 30_000) throw new Error(`host never confirmed ${g.node}: ${procs.get('host')?.lines.slice(-10).join('\n')}`);
        await sleep(200);
      }
    }

    // 1. Broker outage: the gateways keep producing into their outboxes.
    await mosq.stopBroker();
    const outageFrom = Date.now();
    await sleep(2000);
    const outageTo = Date.now();
    await mosq.launchAgain();
    await sleep(1500);

    // 2. kill -9 of gateway a, restart on the same store.
    const a = procs.get('a') as RunningCli;
    a.child.kill('SIGKILL');
    const killedAt = (await a.exited).at;
    await sleep(500);
    start('a', ['run', '--config', join(dir, 'a.yaml')]);
    await sleep(2000);

    // 3. kill -9 of the host while data flows, restart.
    const h = procs.get('host') as RunningCli;
    h.child.kill('SIGKILL');
    const hostKilledAt = (await h.exited).at;
    await sleep(1500);
    start('host', ['host', 'run', '--config', hostFile, '--log-level', 'warn']);
    await sleep(3000);

    // Each gateway drains its outbox (depth 0: everything appended before is at the broker,
    // queued for the host's session), then stops.
    const drainedAt = new Map<string, number>();
    for (const g of gw) {
      const t0 = Date.now();
      for (;;) {
        const text = await fetch(`http://127.0.0.1:${g.http}/metrics`).then((r) => r.text(), () => '');
        const depth = /^fieldgate_outbox_depth_records (\d+)/m.exec(text)?.[1];
        if (depth === '0') break;
        if (Date.now() - t0 > 30_000) throw new Error(`gateway ${g.name} never drained: ${depth}\n${procs.get(g.name)?.lines.slice(-10).join('\n')}`);
        await sleep(100);
      }
      drainedAt.set(`e2e/${g.node}`, Date.now());
      const p = procs.get(g.name) as RunningCli;
      p.child.kill('SIGTERM');
      await p.exited;
    }
    let last = -1;
    for (let stable = 0; stable < 3; ) {
      const nodes = await apiNodes(hostHttp);
      const sum = nodes.reduce((s, n) => s + (n.counters.messages ?? 0), 0);
      stable = sum === last ? stable + 1 : 0;
      last = sum;
      await sleep(700);
    }
    const nodes = await apiNodes(hostHttp);
    const hp = procs.get('host') as RunningCli;
    hp.child.kill('SIGTERM');
    await hp.exited;

    const out = runCli(['host', 'export', '--config', hostFile, '--format', 'jsonl']);
    expect(out.code, out.stderr).toBe(0);
    const rows = out.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Omit<Seen, 'ts'> & { timestamp: number; historical: boolean })
      .map((r) => ({ ...r, ts: r.timestamp }));
    // Exactly once: a replayed duplicate carries the same source timestamp.
    const ids = rows.map((r) => `${r.node}|${r.device}|${r.metric}|${r.ts}`);
    const dups = ids.filter((id, i) => ids.indexOf(id) !== i);
    const firstDup = dups[0];
    const dupRows = rows.map((r, i) => ({ i, ...r })).filter((r) => `${r.node}|${r.device}|${r.metric}|${r.ts}` === firstDup);
    expect(dups.length, `stored twice: ${JSON.stringify(dupRows)} ${JSON.stringify(dups.slice(0, 3))} of ${rows.length}; outage ${outageFrom}-${outageTo}, a killed ${killedAt}`).toBe(0);
    // Everything the local brokers carried is there (except the instant gateway a was killed:
    // a value published locally in the same millisecond may never have been accepted).
    const have = new Map(rows.map((r) => [`${r.node}|${r.device}|${r.metric}|${r.ts}`, r]));
    const considered = seen.filter((s) => !(s.node === 'e2e/gw-a' && Math.abs(s.ts - killedAt) < 500) && s.ts < (drainedAt.get(s.node) ?? 0) - 100);
    const missing = considered.filter((s) => !have.has(`${s.node}|${s.device}|${s.metric}|${s.ts}`));
    const t0 = seen[0]?.ts ?? 0;
    expect(missing.length, `missing ${JSON.stringify(missing.slice(0, 5))} .. ${JSON.stringify(missing.at(-1))}; first seen ${t0}, outage ${outageFrom}-${outageTo}, a killed ${killedAt}, host killed ${hostKilledAt}`).toBe(0);
    expect(considered.length).toBeGreaterThan(150);
    for (const s of considered.slice(0, 200)) expect(have.get(`${s.node}|${s.device}|${s.metric}|${s.ts}`)?.value).toEqual(s.value);
    // The outage's values came later, from the outbox: historical.
    const during = rows.filter((r) => r.ts > outageFrom + 300 && r.ts < outageTo - 300);
    expect(during.length).toBeGreaterThan(20);
    expect(during.filter((r) => !r.historical)).toEqual([]);
    // Duplicates dropped by their key are counted, not required: with the edge's default
    // `confirm: qos1` (issue 13) a record is re-sent only if the kill falls between its PUBLISH
    // and its PUBACK, so some runs have none. Dropping a replayed key is asserted by
    // test/host/host.test.ts (a scripted edge that replays across a restart).
    const drops = nodes.reduce((s, n) => s + n.dedupDrops, 0);
    expect(nodes.map((n) => n.node).sort()).toEqual(['e2e/gw-a', 'e2e/gw-b']);
    process.stderr.write(`host e2e: ${rows.length} rows, ${considered.length} local values compared, ${during.length} outage values historical, ${drops} duplicates dropped\n`);
  }, 120_000);
});
