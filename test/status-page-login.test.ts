// The login rule for real: a gateway binds its observe port to 0.0.0.0 with TLS and a
// password file; a client in a network namespace of its own, behind a veth pair, reaches it
// over a real non-loopback link and must log in; a client on 127.0.0.1 need not. Needs root
// and iproute2 (ip netns); skipped, saying so, where those are missing.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinDrivers } from '../drivers/all.js';
import { hashPassword } from '../src/broker/index.js';
import { parseConfigText } from '../src/config/load.js';
import { Gateway } from '../src/gateway.js';
import { createLogger } from '../src/observe/logger.js';

const root = process.getuid?.() === 0;
const hasIp = spawnSync('ip', ['netns', 'list'], { stdio: 'ignore' }).status === 0;
const canNetns = root && hasIp;
if (!canNetns) console.warn(`status-page-login: skipped, needs root and iproute2 (root: ${root}, ip netns: ${hasIp})`);

const NS = `fgst${process.pid}`;
const HOST_IF = `${NS}h`;
const PEER_IF = `${NS}p`;
const NET = `10.213.${process.pid % 250}`;
const HOST_IP = `${NET}.1`;
const PASSWORD = 'pump:station 7';

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe' });
}

// The client inside the namespace: Node's https with the test CA, printing what came back.
const CLIENT = String.raw`
const https = require('node:https');
const [url, caFile, auth] = process.argv.slice(1);
const headers = auth ? { authorization: 'Basic ' + Buffer.from(auth).toString('base64') } : {};
const req = https.get(url, { ca: require('node:fs').readFileSync(caFile), headers }, (res) => {
  let body = '';
  res.setEncoding('utf8').on('data', (c) => {
    body += c;
    if (res.headers['content-type']?.startsWith('text/event-stream') && body.includes('\n\n')) res.destroy();
  });
  const done = () => { process.stdout.write(JSON.stringify({ status: res.statusCode, headers: res.headers, body })); process.exit(0); };
  res.on('end', done); res.on('close', done);
});
req.on('error', (e) => { process.stdout.write(JSON.stringify({ error: e.message })); process.exit(0); });
`;

interface Answer {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  error?: string;
}

function fromNamespace(url: string, auth?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', NS, process.execPath, '-e', CLIENT, url, join(dir, 'cert.pem'), ...(auth !== undefined ? [auth] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.on('error', reject);
    child.on('exit', () => resolve(JSON.parse(out) as Answer));
  });
}

function fromHere(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    https.get(url, { ca: readFileSync(join(dir, 'cert.pem')) }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

let dir = '';
let gw: Gateway | undefined;
let port = 0;
const logLines = new PassThrough();
let logText = '';
logLines.setEncoding('utf8').on('data', (c: string) => (logText += c));

describe.skipIf(!canNetns)('observe port off loopback, from another network namespace', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fg-status-login-'));
    ip('netns', 'add', NS);
    ip('link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', PEER_IF);
    ip('link', 'set', PEER_IF, 'netns', NS);
    ip('addr', 'add', `${HOST_IP}/30`, 'dev', HOST_IF);
    ip('link', 'set', HOST_IF, 'up');
    ip('-n', NS, 'addr', 'add', `${NET}.2/30`, 'dev', PEER_IF);
    ip('-n', NS, 'link', 'set', PEER_IF, 'up');
    ip('-n', NS, 'link', 'set', 'lo', 'up');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '1', '-subj', '/CN=fieldgate',
      '-addext', `subjectAltName=IP:${HOST_IP},IP:127.0.0.1`], { cwd: dir, stdio: 'ignore' });
    writeFileSync(join(dir, 'http-users'), `# observe.http.users\nviewer:${await hashPassword(PASSWORD)}\n`);
    const config = parseConfigText(
      `version: 1
site: { group: plant, node: edge-1 }
observe:
  http: { host: 0.0.0.0, port: 0, users: ${join(dir, 'http-users')}, tls: { cert: ${join(dir, 'cert.pem')}, key: ${join(dir, 'key.pem')} } }
devices:
  - { name: pump, driver: simulator, pollInterval: 200ms, tags: [ { name: count, type: uint32, signal: { kind: counter } } ] }
`,
      join(dir, 'site.yaml'),
      builtinDrivers,
    );
    gw = new Gateway({ config, drivers: builtinDrivers, logger: createLogger({ level: 'debug', destination: logLines }) });
    await gw.start();
    port = gw.observeAddress!.port;
  }, 30_000);

  afterAll(async () => {
    await gw?.stop();
    spawnSync('ip', ['netns', 'del', NS], { stdio: 'ignore' }); // takes the veth pair with it
    spawnSync('ip', ['link', 'del', HOST_IF], { stdio: 'ignore' });
  });

  it('asks a client on another host for a login and refuses a wrong one', async () => {
    const none = await fromNamespace(`https://${HOST_IP}:${port}/status.json`);
    expect(none.status).toBe(401);
    expect(none.headers!['www-authenticate']).toMatch(/^Basic realm="fieldgate"/);
    expect(none.body).not.toContain('pump');
    const wrong = await fromNamespace(`https://${HOST_IP}:${port}/status.json`, 'viewer:not the password');
    expect(wrong.status).toBe(401);
    const stranger = await fromNamespace(`https://${HOST_IP}:${port}/metrics`, `nobody:${PASSWORD}`);
    expect(stranger.status).toBe(401);
  });

  it('serves the page, the snapshot, the event stream and /metrics to a client that logs in', async () => {
    const auth = `viewer:${PASSWORD}`;
    const json = await fromNamespace(`https://${HOST_IP}:${port}/status.json`, auth);
    expect(json.status).toBe(200);
    expect(JSON.parse(json.body!).devices[0].name).toBe('pump');
    const page = await fromNamespace(`https://${HOST_IP}:${port}/`, auth);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>fieldgate status</title>');
    const events = await fromNamespace(`https://${HOST_IP}:${port}/events`, auth);
    expect(events.status).toBe(200);
    expect(events.body).toMatch(/^retry: 2000\nevent: snapshot\ndata: \{/);
    const metrics = await fromNamespace(`https://${HOST_IP}:${port}/metrics`, auth);
    expect(metrics.status).toBe(200);
  });

  it('lets loopback in without a login: the address the request arrived on decides, not the client', async () => {
    expect(await fromHere(`https://127.0.0.1:${port}/status.json`)).toBe(200);
    // The same machine, through its own veth address: not loopback, so a login is needed.
    expect(await fromHere(`https://${HOST_IP}:${port}/status.json`)).toBe(401);
  });

  it('never logs the password or the Authorization header', async () => {
    await fromNamespace(`https://${HOST_IP}:${port}/status.json`, 'viewer:wrong-horse-battery');
    expect(logText).toMatch(/observe request refused|observe port: failed logins/); // bad passwords: the login guard's summary (issue 18)
    for (const secret of [PASSWORD, 'wrong-horse-battery', Buffer.from(`viewer:${PASSWORD}`).toString('base64'), Buffer.from('viewer:wrong-horse-battery').toString('base64')]) {
      expect(logText).not.toContain(secret);
    }
  });
});
