// `fieldgate probe` and `fieldgate modbus read` (issue 20) against Debian's pymodbus 3.0: a typed
// and an untyped site probe all GOOD; a wrong unit id, a wrong address and a wrong byte order
// each name their reason. The built CLI in a child process, as an integrator runs it.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { CLI } from '../../test/helpers/cli.js';
import { startPymodbus, type PymodbusPeer } from './testing/peers.js';

let dir: string;
let peer: PymodbusPeer;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fieldgate-probe-'));
  peer = await startPymodbus(['tcp']);
});
afterAll(async () => {
  await peer?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function site(devices: Array<Record<string, unknown>>): string {
  const file = join(dir, `site-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, stringify({ version: 1, site: { group: 'g', node: 'n' }, devices }));
  return file;
}

/** Rows of the table by tag name: the columns after DEVICE. */
function rows(stdout: string): Map<string, string> {
  const lines = stdout.trim().split('\n').slice(1);
  return new Map(lines.map((l) => [l.split(/\s{2,}/)[1] ?? '', l]));
}

const device = (name: string, extra: Record<string, unknown>, tags: Array<Record<string, unknown>>) => ({
  name, driver: 'modbus', timeout: '1500ms', connection: { host: '127.0.0.1', port: peer.port, unitId: 1, retries: 0, ...extra }, tags,
});

describe('fieldgate probe against pymodbus (issue 20)', () => {
  it('prints every tag GOOD for a typed and an untyped site, with address, raw words and value; exit 0', async () => {
    const typed = peer.tags.map((t) => ({
      name: t.name, table: t.table, address: t.address, type: t.type, byteOrder: t.byteOrder, ...(t.length !== undefined ? { length: t.length } : {}),
    }));
    // Untyped: what a first site file looks like (uint16 on registers, bool on coils).
    const untyped = [{ name: 'first', address: 0 }, { name: 'modicon', address: '40005' }, { name: 'coil5', table: 'coil', address: 5 }, { name: 'in3', table: 'input', address: 3 }];
    const file = site([device('typed', {}, typed), device('untyped', {}, untyped)]);
    const r = await cli(['probe', '--config', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const byTag = rows(r.stdout);
    expect(byTag.size).toBe(typed.length + untyped.length);
    for (const line of byTag.values()) expect(line).toMatch(/\sGOOD$/);
    for (const t of peer.tags) {
      const shown = t.type === 'string' ? JSON.stringify(t.value) : String(t.value === true ? 'true' : t.value);
      expect(byTag.get(t.name), t.name).toContain(`  ${shown}  `);
    }
    expect(byTag.get('first')).toMatch(/holding 0 \("40001"\)\s+0xcfc7\s+53191\s+GOOD/);
    expect(byTag.get('modicon')).toMatch(/holding 4 \("40005"\)\s+0xd431\s+54321\s+GOOD/);

    // --device and --tag narrow the read to one row.
    const one = await cli(['probe', '--config', file, '--device', 'untyped', '--tag', 'coil5']);
    expect(one.code).toBe(0);
    expect(rows(one.stdout).size).toBe(1);
    expect(one.stdout).toMatch(/coil 5 \("00006"\)\s+1\s+true\s+GOOD/);
  });

  it('names the reason for a wrong unit id, a wrong address and a wrong byte order; exit 1', async () => {
    // A counter of -123456789 (0xF8A4 0x32EB) read word-swapped is 854,325,412: far out of range.
    const counter = peer.tags.find((t) => t.name === 'int32-ABCD');
    if (counter === undefined) throw new Error('peer has no int32-ABCD');
    const file = site([
      device('wrong-unit', { unitId: 9 }, [{ name: 'x', address: 0 }]),
      device('plc', {}, [
        { name: 'beyond', address: 2000 },
        { name: 'swapped', table: counter.table, address: counter.address, type: 'int32', byteOrder: 'CDAB', range: { min: -200000000, max: 200000000 } },
        { name: 'right', table: counter.table, address: counter.address, type: 'int32', byteOrder: 'ABCD', range: { min: -200000000, max: 200000000 } },
      ]),
    ]);
    const r = await cli(['probe', '--config', file]);
    expect(r.code).toBe(1);
    const byTag = rows(r.stdout);
    expect(byTag.get('x')).toMatch(/BAD\s+.*check unitId \(9\)/);
    expect(byTag.get('beyond')).toMatch(/BAD\s+.*exception 2: Illegal data address/);
    expect(byTag.get('swapped')).toMatch(/854325412\s+UNCERTAIN\s+value 854325412 is out of range -200000000..200000000 \(check the address, type and byteOrder\)/);
    expect(byTag.get('right')).toMatch(/\s-123456789\s+GOOD$/);
  });

  it('exits 2 for a bad file or an unknown device', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'version: 1\nsite: { group: g, node: n }\ndevices:\n  - { name: d, driver: modbus, pollIntervall: 1s, connection: { host: 127.0.0.1 }, tags: [ { name: t, address: 0 } ] }\n');
    const r = await cli(['probe', '--config', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.yaml:4:\d+: devices\[0\]\.pollIntervall: unknown key/);
    const file = site([device('plc', {}, [{ name: 'x', address: 0 }])]);
    expect((await cli(['probe', '--config', file, '--device', 'nope'])).code).toBe(2);
  });

  it('modbus read: one register or a few, without a file', async () => {
    const r = await cli(['modbus', 'read', `127.0.0.1:${peer.port}`, '--address', '0', '--count', '2', '--type', 'int16']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/holding 0 \("40001"\)\s+0xcfc7\s+-12345\s+GOOD/);
    expect(r.stdout).toMatch(/holding 1 \("40002"\)\s+0x0000\s+0\s+GOOD/);
    const wrongUnit = await cli(['modbus', 'read', `127.0.0.1:${peer.port}`, '--unit', '9', '--address', '0', '--timeout', '1s']);
    expect(wrongUnit.code).toBe(1);
    expect(wrongUnit.stdout).toContain('check unitId (9)');
    const usage = await cli(['modbus', 'read', '--address', '0']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('give HOST[:PORT] or --serial PATH');
  });
});
