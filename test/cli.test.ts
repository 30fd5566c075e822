// The command line as a user runs it: the built CLI in a child process.
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli, startCli } from './helpers/cli.js';
import { freePort } from './helpers/ports.js';

const json = (line: string) => JSON.parse(line) as Record<string, unknown>;

describe('fieldgate CLI', () => {
  it('prints its version with --version and version', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(runCli(['--version'])).toMatchObject({ code: 0, stdout: `fieldgate ${pkg.version}\n` });
    expect(runCli(['version']).stdout).toBe(`fieldgate ${pkg.version}\n`);
  });

  it('passwd hashes the password from stdin into a string the broker verifies', async () => {
    const { spawnSync } = await import('node:child_process');
    const { verifyPassword } = await import('../src/broker/index.js');
    const { CLI } = await import('./helpers/cli.js');
    const r = spawnSync(process.execPath, [CLI, 'passwd'], { input: 's3cret\n', encoding: 'utf8' });
    expect(r.status).toBe(0);
    const hash = r.stdout.trim();
    expect(hash).toMatch(/^scrypt\$/);
    expect(hash).not.toContain('s3cret');
    expect(await verifyPassword('s3cret', hash)).toBe(true);
    expect(await verifyPassword('s3cret\n', hash)).toBe(false);
    expect(spawnSync(process.execPath, [CLI, 'passwd'], { input: '', encoding: 'utf8' }).status).toBe(2);
  });

  it('exits 2 with usage on a bad command line', () => {
    expect(runCli([]).code).toBe(2);
    const unknown = runCli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    expect(runCli(['run']).stderr).toContain('run needs --config FILE');
    expect(runCli(['run', '--config', 'x.yaml', '--bogus']).code).toBe(2);
    expect(runCli(['demo', '--log-level', 'loud']).code).toBe(2);
  });

  it('exits 2 on a bad config for run, naming file, line and field', () => {
    const r = runCli(['run', '--config', join(ROOT, 'test/fixtures/bad-config/typo-key.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/typo-key\.yaml:6:5: devices\[0\]\.pollIntervall: unknown key/);
  });

  it('exits 1 when the gateway cannot start (observe port taken)', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    const dir = mkdtempSync(join(tmpdir(), 'fg-cli-'));
    const file = join(dir, 'site.yaml');
    writeFileSync(file, `version: 1\nsite: { group: g, node: n }\nobserve: { http: { port: ${port} } }\n`);
    const r = runCli(['run', '--config', file]);
    blocker.close();
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('EADDRINUSE');
  });

  it('demo: logs simulator samples every second, stops on Ctrl-C within 2 s and exits 0 by itself', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'fg-demo-'));
    // Free ports, not 1883/8080: parallel CI runs (and a Mosquitto on the box) must not collide.
    const mqttPort = await freePort();
    const httpPort = await freePort();
    const demo = startCli(['demo', '--mqtt-port', String(mqttPort), '--http-port', String(httpPort)], { cwd });
    try {
      await demo.waitFor((l) => l.includes('"gateway started"'), 10_000);
      // Three seconds of samples: the flow sine changes every poll, so every second has one.
      await demo.waitFor((l) => l.includes('"tag update"') && l.includes('"tag":"flow"') && l.includes('"reason":"change"'), 5_000);
      await new Promise((r) => setTimeout(r, 2_100));
      const flows = demo.lines.filter((l) => l.includes('"tag update"') && l.includes('"device":"pump-01"') && l.includes('"tag":"flow"')).map(json);
      expect(flows.length).toBeGreaterThanOrEqual(3);
      const times = flows.map((f) => f.time as number);
      for (let i = 1; i < times.length; i++) expect((times[i] ?? 0) - (times[i - 1] ?? 0)).toBeGreaterThan(800);
      expect(flows[0]).toMatchObject({ level: 30, device: 'pump-01', quality: 'GOOD' });

      const health = (await (await fetch(`http://127.0.0.1:${httpPort}/health`)).json()) as { status: string };
      expect(health.status).toBeDefined();
      // The local broker carries the Sparkplug stream; a rebirth request shows the births.
      const mqtt = (await import('mqtt')).default;
      const { encodePayload } = await import('../src/sparkplug/payload.js');
      const { DataType } = await import('../src/sparkplug/datatypes.js');
      const sub = mqtt.connect(`mqtt://127.0.0.1:${mqttPort}`, { reconnectPeriod: 0 });
      const types: string[] = [];
      sub.on('message', (topic) => types.push(topic.split('/')[2] ?? ''));
      await new Promise<void>((resolve, reject) => {
        sub.once('connect', () => sub.subscribe('spBv1.0/#', { qos: 0 }, () => resolve()));
        sub.once('error', reject);
      });
      sub.publish('spBv1.0/demo-plant/NCMD/edge-demo', Buffer.from(encodePayload({ metrics: [{ name: 'Node Control/Rebirth', type: DataType.Boolean, value: true }] })));
      for (let i = 0; i < 100 && !(types.includes('NBIRTH') && types.includes('DBIRTH') && types.lastIndexOf('DDATA') > types.indexOf('DBIRTH')); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      await new Promise<void>((r) => sub.end(true, {}, () => r()));
      expect(types).toContain('NBIRTH');
      expect(types.lastIndexOf('DDATA')).toBeGreaterThan(types.indexOf('DBIRTH'));

      const sentAt = Date.now();
      demo.child.kill('SIGINT');
      const exit = await demo.exited;
      expect(exit.code).toBe(0);
      // No process.exit() on the clean path: the process ended because nothing was left open.
      expect(exit.at - sentAt).toBeLessThan(2_000);
      expect(demo.lines.some((l) => l.includes('"gateway stopped"'))).toBe(true);
      expect(demo.lines.some((l) => l.includes('forcing exit'))).toBe(false);
    } finally {
      demo.child.kill('SIGKILL');
    }
  });

  it('demo names the busy port and the flag that moves it (issue 20)', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const busy = (blocker.address() as { port: number }).port;
    const free = await freePort();
    const cwd = mkdtempSync(join(tmpdir(), 'fg-demo-'));
    try {
      const mqttBusy = runCli(['demo', '--mqtt-port', String(busy), '--http-port', String(free)], { cwd });
      expect(mqttBusy.code).toBe(1);
      expect(mqttBusy.stderr).toContain(`port ${busy} (MQTT broker) is busy: choose another with --mqtt-port N`);
      const httpBusy = runCli(['demo', '--mqtt-port', String(free), '--http-port', String(busy)], { cwd });
      expect(httpBusy.code).toBe(1);
      expect(httpBusy.stderr).toContain(`port ${busy} (HTTP status page) is busy: choose another with --http-port N`);
      expect(runCli(['demo', '--mqtt-port', 'x']).code).toBe(2);
    } finally {
      blocker.close();
    }
  });

  it('a second signal forces the exit at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-cli-'));
    const file = join(dir, 'site.yaml');
    // A device that takes 1.5 s to say goodbye: stop() waits for it, a second signal does not.
    writeFileSync(
      file,
      `version: 1
site: { group: g, node: n }
observe: { http: { enabled: false } }
devices:
  - { name: d, driver: simulator, timeout: 1800ms, connection: { closeLatency: 1500ms }, tags: [ { name: t } ] }
`,
    );
    const gw = startCli(['run', '--config', file]);
    try {
      await gw.waitFor((l) => l.includes('"gateway started"'), 10_000);
      await new Promise((r) => setTimeout(r, 200));
      gw.child.kill('SIGTERM');
      await gw.waitFor((l) => l.includes('"stopping"'), 2_000);
      const sentAt = Date.now();
      gw.child.kill('SIGTERM');
      const exit = await gw.exited;
      expect(exit.code).toBe(130);
      expect(exit.at - sentAt).toBeLessThan(500);
    } finally {
      gw.child.kill('SIGKILL');
    }
  });
});
