// Issue 19, "After a 35 s flood of 10,000 DCMD/s the upstream link delivers again within 10 s
// of the flood's end with no restart, and the watchdog never misses a ping". The built CLI
// under a played systemd (NOTIFY_SOCKET bound with unix-dgram, WATCHDOG_USEC = 4 s: a ping
// every 2 s), Debian's mosquitto as the central broker, an mqtt.js "host" flooding DCMDs
// at QoS 1 and a subscriber timing the DDATA the gateway sends up.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { DataType } from '../src/sparkplug/datatypes.js';
import { encodePayload } from '../src/sparkplug/payload.js';
import { CLI, ROOT } from './helpers/cli.js';
import { Mosquitto } from './helpers/mosquitto.js';
import { until } from './helpers/until.js';
import { useCleanups } from './helpers/cleanups.js';
import { simulatedPump } from './helpers/site-yaml.js';

interface UnixDgramSocket {
  bind(path: string): void;
  close(): void;
  on(event: 'message', l: (buf: Buffer) => void): void;
}
const unixDgram = createRequire(import.meta.url)('unix-dgram') as { createSocket(type: 'unix_dgram'): UnixDgramSocket };

const FLOOD_MS = 35_000;
const PER_SECOND = 10_000;
/**
 * The watchdog budget played here: 4 s, a ping every 2 s (the unit file says 30 s). Tighter
 * budgets measured the box, not the gateway: on a 2-core CI machine at load 12 the process
 * is off the CPU for over a second at times, with an idle event loop.
 */
const WATCHDOG_MS = 4_000;

const cleanups = useCleanups();

describe('DCMD flood', () => {
  it('35 s of 10,000 DCMD/s: no restart, the watchdog never misses, DDATA upstream within 10 s of the end', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-flood-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const mosq = await Mosquitto.start();
    cleanups.push(() => mosq.close());

    const pings: number[] = [];
    const sock = unixDgram.createSocket('unix_dgram');
    sock.on('message', (buf) => {
      if (buf.toString('utf8').split('\n').includes('WATCHDOG=1')) pings.push(performance.now());
    });
    sock.bind(join(dir, 'notify.sock'));
    cleanups.push(() => sock.close());

    const site = join(dir, 'site.yaml');
    writeFileSync(
      site,
      `version: 1
site: { group: plant, node: edge-1, nodeMetricsInterval: 1s }
observe: { http: { enabled: false } }
store: { path: ${join(dir, 'fg.db')} }
upstream: { url: '${mosq.url}', reconnect: { min: 100ms, max: 1s } }
devices:${simulatedPump('{ name: sp, type: int16, writable: true, signal: { kind: constant, value: 5 } }')}`,
    );
    const env: NodeJS.ProcessEnv = { ...process.env, NOTIFY_SOCKET: join(dir, 'notify.sock'), WATCHDOG_USEC: String(WATCHDOG_MS * 1000) };
    delete env.WATCHDOG_PID;
    const child: ChildProcess = spawn(process.execPath, [CLI, 'run', '--config', site], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let exited = false;
    child.on('exit', () => (exited = true));
    cleanups.push(async () => {
      if (exited) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    });

    const ddata: number[] = [];
    const watcher = await mqtt.connectAsync(mosq.url, { reconnectPeriod: 0 });
    cleanups.push(() => watcher.endAsync());
    watcher.on('message', (topic) => {
      if (topic.startsWith('spBv1.0/plant/DDATA/edge-1/')) ddata.push(performance.now());
    });
    await watcher.subscribeAsync('spBv1.0/plant/DDATA/#', { qos: 0 });
    await until(() => ddata.length > 0, 15_000, 'DDATA before the flood');

    // The flood comes from its own process: in this one it would delay the datagrams this
    // process times, and a late reading here is not a missed ping there.
    const flooder = join(dir, 'flooder.cjs');
    writeFileSync(
      flooder,
      `const mqtt = require(${JSON.stringify(join(ROOT, 'node_modules', 'mqtt'))});
const [url, ms, perSecond, hex] = process.argv.slice(2);
const payload = Buffer.from(hex, 'hex');
const client = mqtt.connect(url, { reconnectPeriod: 0 });
client.on('connect', () => {
  const start = performance.now();
  let sent = 0;
  const total = Number(perSecond) * Number(ms) / 1000;
  const tick = setInterval(() => {
    const due = Math.min(total, Math.floor(((performance.now() - start) * Number(perSecond)) / 1000));
    while (sent < due && client.queue.length < 5000) {
      client.publish('spBv1.0/plant/DCMD/edge-1/pump', payload, { qos: 1 });
      sent += 1;
    }
    if (performance.now() - start >= Number(ms)) {
      clearInterval(tick);
      console.log(String(sent));
      client.end(true, {}, () => process.exit(0));
    }
  }, 5);
});
`,
    );
    const payload = Buffer.from(encodePayload({ metrics: [{ name: 'sp', type: DataType.Int16, value: 7 }] }));
    const start = performance.now();
    const flood = spawn(process.execPath, [flooder, mosq.url, String(FLOOD_MS), String(PER_SECOND), payload.toString('hex')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    flood.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise((r) => flood.once('exit', r));
    const sent = Number(out.trim());
    const floodEnd = performance.now();
    await until(() => ddata.some((t) => t > floodEnd), 10_000, 'DDATA upstream after the flood');
    const recovered = ddata.find((t) => t > floodEnd)! - floodEnd;
    // Two more seconds of watchdog after the flood.
    await new Promise((r) => setTimeout(r, 2_000));
    const during = pings.filter((t) => t >= start - 1_000);
    const gaps = during.slice(1).map((t, i) => t - during[i]!);
    const maxGap = Math.max(...gaps);
    console.log(JSON.stringify({ sent, perSecond: Math.round(sent / (FLOOD_MS / 1000)), recoveredMs: Math.round(recovered), maxWatchdogGapMs: Math.round(maxGap), pings: during.length }));
    expect(exited).toBe(false);
    expect(sent).toBeGreaterThan(PER_SECOND * (FLOOD_MS / 1000) * 0.5);
    expect(recovered).toBeLessThan(10_000);
    // systemd kills at WATCHDOG_USEC without a ping.
    expect(maxGap).toBeLessThan(WATCHDOG_MS);
  }, 120_000);
});
