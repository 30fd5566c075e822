// The OPC UA driver against node-opcua's OPCUAServer in a separate process on loopback. One
// server (two start-ups: the restart test restarts it) serves every test: node-opcua is heavy.
import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../../src/runtime/runtime.js';
import type { DeviceStateChange, TagUpdate } from '../../src/runtime/types.js';
import { OpcuaTestServer, type ServerInfo } from './testing/server-fixture.js';
import { browse } from './browse.js';
import { CutProxy } from './cut-proxy.js';
import { runCli } from '../../test/helpers/cli.js';
import { startRuntime } from '../../test/helpers/runtime-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'fg-opcua-'));
const server = new OpcuaTestServer({ pki: join(dir, 'server-pki'), users: { operator: 's3cret' } });
let info: ServerInfo;
let runtime: Runtime | undefined;

beforeAll(async () => {
  info = await server.start();
}, 30_000);

afterEach(async () => {
  await runtime?.stop();
  runtime = undefined;
});

afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

function run(device: string) {
  const t = startRuntime(device, ({ states, updates }) => `states: ${states.map((s) => `${s.state}${s.error ? `(${s.error})` : ''}`).join(', ')}; last updates: ${updates.slice(-5).map((u) => `${u.tag}=${String(u.value)} ${u.quality}`).join(', ')}`);
  runtime = t.rt;
  return t;
}

const of = (us: TagUpdate[], tag: string) => us.filter((u) => u.tag === tag);
const online = (states: DeviceStateChange[]) => states.at(-1)?.state === 'online';

/** A subscribed counter with a short reconnect back-off: the device of the loss and restart tests. */
const reconnectingCounter = (endpoint: string) => `  - name: plc
    driver: opcua
    timeout: 10s
    backoff: { initial: 200ms, max: 500ms }
    connection:
      endpoint: ${endpoint}
      pki: ${join(dir, 'client-pki')}
      publishingInterval: 100ms
      samplingInterval: 50ms
    tags:
      - { name: counter, type: uint32, nodeId: 'ns=1;s=Counter' }
`;

describe('opcua driver against a node-opcua server', () => {
  it('subscribe mode: monitored items push values; source timestamps kept; Bad and Uncertain status mapped; server deadband and queue size honoured', async () => {
    const t = run(`  - name: plc
    driver: opcua
    timeout: 10s
    connection:
      endpoint: ${info.endpoint}
      pki: ${join(dir, 'client-pki')}
      publishingInterval: 250ms
      samplingInterval: 50ms
    tags:
      - { name: counter, type: uint32, nodeId: 'ns=1;s=Counter', samplingInterval: 20ms, queueSize: 50 }
      - { name: flow, nodeId: 'ns=1;s=Flow', serverDeadband: 1.0 }
      - { name: broken, nodeId: 'ns=1;s=Broken' }
      - { name: doubtful, nodeId: 'ns=1;s=Doubtful' }
      - { name: stamped, type: float32, nodeId: 'ns=1;s=Stamped' }
`);
    await t.until(() => online(t.states) && of(t.updates, 'counter').length >= 20 && of(t.updates, 'flow').length >= 3, 10_000, 'counter and flow updates');
    const counters = of(t.updates, 'counter').filter((u) => u.quality === 'GOOD').map((u) => u.value as number);
    // queueSize 50 at 20 ms sampling: every publish (250 ms) brings a run of samples, so
    // successive values mostly step by one tick instead of jumping by ~12 per publish.
    const steps = counters.slice(1).map((c, i) => c - (counters[i] ?? 0));
    expect(steps.every((s) => s > 0)).toBe(true);
    expect(steps.filter((s) => s <= 3).length).toBeGreaterThan(steps.length / 2);
    // Server-side absolute deadband 1.0 on a ramp of 0.1 per tick: no reported step below 1.
    const flows = of(t.updates, 'flow').filter((u) => u.quality === 'GOOD').map((u) => u.value as number);
    flows.slice(1).forEach((f, i) => expect(f - (flows[i] ?? 0)).toBeGreaterThanOrEqual(1));
    expect(of(t.updates, 'broken').at(-1)).toMatchObject({ quality: 'BAD', value: null });
    expect(of(t.updates, 'doubtful').at(-1)).toMatchObject({ quality: 'UNCERTAIN', value: 3.5 });
    expect(of(t.updates, 'stamped').at(-1)).toMatchObject({ quality: 'GOOD', value: 1.5, sourceTime: Date.UTC(2020, 0, 2, 3, 4, 5) });
    // The gateway's own application certificate was created on first start in its PKI folder.
    expect(readdirSync(join(dir, 'client-pki', 'own', 'certs')).some((f) => f.endsWith('.pem'))).toBe(true);
  });

  it('poll mode: batched reads on the device schedule, status mapped per node; stop closes the socket', async () => {
    const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
    const before = sockets();
    const t = run(`  - name: plc
    driver: opcua
    pollInterval: 100ms
    timeout: 10s
    connection: { endpoint: ${info.endpoint}, pki: ${join(dir, 'client-pki')}, mode: poll, maxNodesPerRead: 2 }
    tags:
      - { name: counter, type: uint32, nodeId: 'ns=1;s=Counter' }
      - { name: broken, nodeId: 'ns=1;s=Broken' }
      - { name: doubtful, nodeId: 'ns=1;s=Doubtful' }
      - { name: mode, type: string, nodeId: 'ns=1;s=Mode' }
      - { name: missing, nodeId: 'ns=1;s=NoSuchNode' }
`);
    await t.until(() => of(t.updates, 'counter').filter((u) => u.quality === 'GOOD').length >= 3, 10_000, 'three polls');
    expect(of(t.updates, 'mode').at(-1)).toMatchObject({ quality: 'GOOD', value: 'AUTO' });
    expect(of(t.updates, 'broken').at(-1)).toMatchObject({ quality: 'BAD' });
    expect(of(t.updates, 'doubtful').at(-1)).toMatchObject({ quality: 'UNCERTAIN', value: 3.5 });
    expect(of(t.updates, 'missing').at(-1)).toMatchObject({ quality: 'BAD', value: null });
    expect(online(t.states)).toBe(true);
    expect(sockets()).toBe(before + 1);
    await t.rt.stop();
    runtime = undefined;
    expect(sockets()).toBe(before);
  });

  it('writes use the data type of the node (Int16, String) and read back', async () => {
    const t = run(`  - name: plc
    driver: opcua
    pollInterval: 50ms
    timeout: 10s
    connection: { endpoint: ${info.endpoint}, pki: ${join(dir, 'client-pki')}, mode: poll }
    tags:
      - { name: setpoint, nodeId: 'ns=1;s=Setpoint', writable: true }
      - { name: mode, type: string, nodeId: 'ns=1;s=Mode', writable: true }
      - { name: counter, type: uint32, nodeId: 'ns=1;s=Counter', writable: true }
`);
    await t.until(() => online(t.states), 10_000, 'online');
    // float64 in the tag model, Int16 on the server: the driver must send an Int16 Variant.
    await t.rt.write('plc', 'setpoint', 42);
    await t.rt.write('plc', 'mode', 'MANUAL');
    await t.until(() => of(t.updates, 'setpoint').at(-1)?.value === 42 && of(t.updates, 'mode').at(-1)?.value === 'MANUAL', 5000, 'written values read back');
    // A read-only node: the server's refusal comes back as a failed write naming the status.
    await expect(t.rt.write('plc', 'counter', 1)).rejects.toThrow(/BadNotWritable|BadUserAccessDenied/);
    await expect(t.rt.write('plc', 'setpoint', 1.5)).rejects.toThrow(/cannot be written to a node of data type Int16/);
  });

  it('SignAndEncrypt: an untrusted server certificate gives an error naming the file to move; once moved, username and certificate identities connect; a wrong password is refused clearly', async () => {
    const pki = join(dir, 'secure-pki');
    const device = (password: string) => `  - name: secure
    driver: opcua
    timeout: 10s
    backoff: { initial: 200ms, max: 400ms }
    connection:
      endpoint: ${info.endpoint}
      pki: ${pki}
      securityMode: SignAndEncrypt
      securityPolicy: Basic256Sha256
      auth: { kind: username, username: operator, password: ${password} }
    tags:
      - { name: counter, type: uint32, nodeId: 'ns=1;s=Counter' }
`;
    let t = run(device('s3cret'));
    await t.until(() => t.states.some((s) => s.state === 'offline'), 10_000, 'a refused connection');
    const error = t.states.find((s) => s.state === 'offline')?.error ?? '';
    const rejected = readdirSync(join(pki, 'rejected')).filter((f) => f.endsWith('.pem'));
    expect(rejected).toHaveLength(1);
    const file = join(pki, 'rejected', rejected[0] ?? '');
    expect(error).toBe(`the certificate of OPC UA server ${info.endpoint} is not trusted yet: to trust it, move ${file} to ${join(pki, 'trusted', 'certs')}/`);
    await runtime?.stop();

    renameSync(file, join(pki, 'trusted', 'certs', basename(file)));
    t = run(device('s3cret'));
    await t.until(() => online(t.states) && of(t.updates, 'counter').some((u) => u.quality === 'GOOD'), 10_000, 'a secure session');
    await runtime?.stop();

    // The other common policies, with the now trusted server and the same gateway certificate.
    for (const [mode, policy] of [['Sign', 'Aes128_Sha256_RsaOaep'], ['SignAndEncrypt', 'Aes256_Sha256_RsaPss']]) {
      t = run(device('s3cret').replace('SignAndEncrypt', mode ?? '').replace('Basic256Sha256', policy ?? ''));
      await t.until(() => online(t.states) && of(t.updates, 'counter').some((u) => u.quality === 'GOOD'), 10_000, `a ${mode} ${policy} session`);
      await runtime?.stop();
    }

    // X.509 user identity: here the other PKI's application certificate and key serve as a user's.
    const userCert = readdirSync(join(dir, 'client-pki', 'own', 'certs')).find((f) => f.endsWith('.pem')) ?? '';
    t = run(
      device('s3cret').replace(
        /auth: .*/,
        `auth: { kind: certificate, certificate: ${join(dir, 'client-pki', 'own', 'certs', userCert)}, privateKey: ${join(dir, 'client-pki', 'own', 'private', 'private_key.pem')} }`,
      ),
    );
    await t.until(() => online(t.states) && of(t.updates, 'counter').some((u) => u.quality === 'GOOD'), 10_000, 'a session with a user certificate');
    await runtime?.stop();
    // The same certificate signed with another key: the server must refuse the X.509 token.
    t = run(
      device('s3cret').replace(
        /auth: .*/,
        `auth: { kind: certificate, certificate: ${join(dir, 'client-pki', 'own', 'certs', userCert)}, privateKey: ${join(pki, 'own', 'private', 'private_key.pem')} }`,
      ),
    );
    await t.until(() => t.states.some((s) => s.state === 'offline'), 10_000, 'a refused user certificate');
    expect(t.states.find((s) => s.state === 'offline')?.error).toMatch(/refused the user with certificate .*\.pem/);
    await runtime?.stop();

    t = run(device('wrong-password'));
    await t.until(() => t.states.some((s) => s.state === 'offline'), 10_000, 'a refused user');
    const refused = t.states.find((s) => s.state === 'offline')?.error ?? '';
    expect(refused).toMatch(/refused user "operator"/);
    expect(refused).not.toContain('wrong-password');
  });

  it('fieldgate opcua browse prints a tags: block that passes fieldgate validate once pasted under a device', async () => {
    const cli = runCli(['opcua', 'browse', info.endpoint, '--root', 'ns=1;s=Plant', '--depth', '3', '--pki', join(dir, 'client-pki')]);
    expect(cli.code, cli.stderr).toBe(0);
    const yaml = cli.stdout;
    expect(yaml).toContain('  - { name: "Pump/Setpoint", type: int16, nodeId: "ns=1;s=Setpoint", writable: true }');
    expect(yaml).toContain('  - { name: "Pump/Counter", type: uint32, nodeId: "ns=1;s=Counter" }');
    expect(yaml).toContain('  - { name: "Sensors/Stamped", type: float32, nodeId: "ns=1;s=Stamped", writable: true }');
    expect(yaml).toMatch(/^# 7 variables below ns=1;s=Plant \(depth 3\)/);
    // Depth 1 stops at the Plant folder's children: Pump and Sensors are objects, no variables.
    expect(await browse(info.endpoint, { root: 'ns=1;s=Plant', depth: 1, pki: join(dir, 'client-pki') })).toMatch(/^# 0 variables/);
    const site = join(dir, 'browsed.yaml');
    const indented = yaml.split('\n').map((l) => (l === '' ? l : `    ${l}`)).join('\n');
    writeFileSync(site, `version: 1\nsite: { group: g, node: n }\ndevices:\n  - name: plc\n    driver: opcua\n    connection: { endpoint: '${info.endpoint}' }\n${indented}`);
    const r = runCli(['validate', site]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`${site}: ok (1 devices, 7 tags)`);
  });

  it('network loss: the device goes offline, reconnects by itself and the subscription delivers again', async () => {
    const proxy = new CutProxy(info.port);
    await proxy.start();
    try {
      const t = run(reconnectingCounter(`opc.tcp://127.0.0.1:${proxy.port}`));
      await t.until(() => online(t.states) && of(t.updates, 'counter').length >= 3, 10_000, 'values');
      proxy.pull();
      await t.until(() => t.states.at(-1)?.state === 'offline', 10_000, 'offline');
      expect(t.states.at(-1)?.error).toMatch(/connection to the OPC UA server lost/);
      const last = of(t.updates, 'counter').filter((u) => u.quality === 'GOOD').at(-1)?.value as number;
      await new Promise((r) => setTimeout(r, 300));
      proxy.plug();
      const mark = t.updates.length;
      await t.until(() => online(t.states) && of(t.updates.slice(mark), 'counter').filter((u) => u.quality === 'GOOD').length >= 2, 20_000, 'back online');
      expect(of(t.updates.slice(mark), 'counter').filter((u) => u.quality === 'GOOD').at(-1)?.value as number).toBeGreaterThan(last);
    } finally {
      await runtime?.stop();
      runtime = undefined;
      await proxy.close();
    }
  }, 40_000);

  it('server restart: the device goes offline, reconnects by itself and the subscription delivers again', async () => {
    const t = run(reconnectingCounter(info.endpoint));
    await t.until(() => online(t.states) && of(t.updates, 'counter').length >= 3, 10_000, 'values');
    await server.stop();
    await t.until(() => t.states.at(-1)?.state === 'offline', 10_000, 'offline');
    expect(of(t.updates, 'counter').at(-1)?.quality).toBe('BAD');
    await server.start();
    const mark = t.updates.length;
    // The new server process counts from 0 again: fresh values prove the subscription is back.
    await t.until(() => online(t.states) && of(t.updates.slice(mark), 'counter').filter((u) => u.quality === 'GOOD').length >= 3, 20_000, 'subscription restored');
  }, 40_000);
});

it('no server certificate folder is written outside the temp dir', () => {
  expect(existsSync(join(dir, 'server-pki', 'server', 'own'))).toBe(true);
});
