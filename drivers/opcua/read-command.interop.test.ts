// `fieldgate opcua read` (issue 20) against node-opcua's own server: one Read, one row per node,
// the server's status as the reason when not GOOD. The built CLI in a child process.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../../test/helpers/cli.js';
import { OpcuaTestServer, type ServerInfo } from './testing/server-fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'fieldgate-opcua-read-'));
const server = new OpcuaTestServer({ pki: join(dir, 'server-pki') });
let info: ServerInfo;
beforeAll(async () => {
  info = await server.start();
});
afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('fieldgate opcua read (issue 20)', () => {
  it('reads nodes once and names the status of the ones that are not GOOD; exits by itself', async () => {
    const started = Date.now();
    const r = await cli(['opcua', 'read', info.endpoint, 'ns=1;s=Flow', 'ns=1;s=Broken', 'ns=1;s=Doubtful', 'ns=1;s=Nope', '--pki', join(dir, 'client-pki')]);
    expect(Date.now() - started).toBeLessThan(40_000);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^DEVICE\s+TAG\s+ADDRESS\s+RAW\s+VALUE\s+QUALITY\s+REASON$/);
    expect(lines.find((l) => l.includes('ns=1;s=Flow'))).toMatch(/\s[\d.]+\s+GOOD$/);
    expect(lines.find((l) => l.includes('ns=1;s=Broken'))).toMatch(/BAD\s+BadSensorFailure/);
    expect(lines.find((l) => l.includes('ns=1;s=Doubtful'))).toMatch(/3\.5\s+UNCERTAIN\s+UncertainLastUsableValue/);
    expect(lines.find((l) => l.includes('ns=1;s=Nope'))).toMatch(/BAD\s+BadNodeIdUnknown/);

    const good = await cli(['opcua', 'read', info.endpoint, 'ns=1;s=Mode', '--type', 'string', '--pki', join(dir, 'client-pki')]);
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/ns=1;s=Mode\s+"AUTO"\s+GOOD/);
    expect((await cli(['opcua', 'read', info.endpoint])).code).toBe(2);
  });
});
