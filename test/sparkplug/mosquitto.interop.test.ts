// Sparkplug against Debian's Mosquitto over MQTT 5: what a host receives, decoded by the
// independent decoder; the Will (NDEATH) delivered after kill -9; the MQTT 5 goodbye (NDEATH
// then DISCONNECT 0x04); and the demo's local stream seen by a plain `mosquitto_sub`.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Mosquitto } from '../helpers/mosquitto.js';
import { startCli } from '../helpers/cli.js';
import { birthMetric, TestHost } from './host.js';
import { siteYaml, startGateway } from './gateway-fixture.js';
import { encodePayload } from '../../src/sparkplug/payload.js';
import { DataType } from '../../src/sparkplug/datatypes.js';
import { useCleanups } from '../helpers/cleanups.js';

const cleanups = useCleanups({ ignoreErrors: true });

describe('Sparkplug through Mosquitto (MQTT 5)', () => {
  it('births, DATA with consecutive seq, and NDEATH on an intentional stop', async () => {
    const mosq = await Mosquitto.start();
    cleanups.push(() => mosq.close());
    const host = await TestHost.connected(mosq.url, cleanups);
    const gw = await startGateway({ url: mosq.url, protocolVersion: 5 });
    cleanups.push(gw.stop);
    const nbirth = await host.waitFor((m) => m.type === 'NBIRTH');
    await host.waitFor((m) => m.type === 'DDATA' && Number(m.p.seq) > 5);
    expect(Number(nbirth.p.seq)).toBe(0);
    const seqs = host.messages.filter((m) => m.type !== 'NDEATH').map((m) => Number(m.p.seq));
    seqs.forEach((s, i) => expect(s).toBe(i % 256));
    await gw.stop();
    const death = await host.waitFor((m) => m.type === 'NDEATH');
    expect(death.p.metrics?.[0]?.longValue).toBe(birthMetric(nbirth, 'bdSeq')?.longValue);
    // NDEATH published, then DISCONNECT with reason 0x04 "with Will Message": Mosquitto then
    // publishes the Will as well, so the host sees the same NDEATH twice. A plain DISCONNECT
    // (0x00) would have discarded the Will and left one.
    await host.waitFor((m) => m.type === 'NDEATH', host.messages.indexOf(death) + 1);
    const deaths = host.of('NDEATH');
    expect(deaths).toHaveLength(2);
    expect(deaths[1]!.p.metrics?.[0]?.longValue).toBe(birthMetric(nbirth, 'bdSeq')?.longValue);
  });

  it('kill -9: Mosquitto delivers the NDEATH Will with the session bdSeq', async () => {
    const mosq = await Mosquitto.start();
    cleanups.push(() => mosq.close());
    const host = await TestHost.connected(mosq.url, cleanups);
    const dir = mkdtempSync(join(tmpdir(), 'fg-kill-mosq-'));
    const file = join(dir, 'site.yaml');
    writeFileSync(file, siteYaml({ url: mosq.url, dir, protocolVersion: 5 }));
    const gw = startCli(['run', '--config', file, '--log-level', 'warn']);
    cleanups.push(async () => void gw.child.kill('SIGKILL'));
    const nbirth = await host.waitFor((m) => m.type === 'NBIRTH', 0, 15_000);
    gw.child.kill('SIGKILL');
    const death = await host.waitFor((m) => m.type === 'NDEATH', 0, 15_000);
    expect(death).toMatchObject({ qos: 1, retain: false });
    expect(death.p.metrics?.[0]?.longValue).toBe(birthMetric(nbirth, 'bdSeq')?.longValue);
  });

  it('the demo: a plain mosquitto_sub -t spBv1.0/# sees NBIRTH, DBIRTH and DDATA on the local broker', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'fg-demo-mosq-'));
    const demo = startCli(['demo', '--log-level', 'warn'], { cwd });
    cleanups.push(async () => {
      demo.child.kill('SIGTERM');
      await demo.exited;
    });
    // Wait for the broker, then subscribe and ask for a rebirth (births are not retained).
    const host = await (async () => {
      for (let i = 0; ; i++) {
        try {
          return await TestHost.connect('mqtt://127.0.0.1:1883');
        } catch (e) {
          if (i > 100) throw e;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    })();
    cleanups.push(() => host.close());
    const sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', '1883', '-t', 'spBv1.0/#', '-v', '-C', '12'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    sub.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
    const done = new Promise<void>((r) => sub.on('exit', () => r()));
    cleanups.push(async () => void sub.kill());
    await new Promise((r) => setTimeout(r, 300));
    await host.publish('spBv1.0/demo-plant/NCMD/edge-demo', Buffer.from(encodePayload({ metrics: [{ name: 'Node Control/Rebirth', type: DataType.Boolean, value: true }] })), { qos: 0 });
    await Promise.race([done, new Promise((r) => setTimeout(r, 10_000))]);
    const topics = out.split('\n').map((l) => l.split(' ')[0]).filter((t) => t?.startsWith('spBv1.0/'));
    expect(topics).toContain('spBv1.0/demo-plant/NBIRTH/edge-demo');
    expect(topics).toContain('spBv1.0/demo-plant/DBIRTH/edge-demo/pump-01');
    expect(topics.some((t) => t?.startsWith('spBv1.0/demo-plant/DDATA/edge-demo/'))).toBe(true);
  });
});
