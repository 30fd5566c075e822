// The host file through the command line (issue 14): `fieldgate validate` knows it, with
// FILE:LINE:COL errors; `fieldgate schema --host` prints its JSON Schema; `host export` runs on
// a store and refuses bad options.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fg-host-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fieldgate host on the command line', () => {
  it('validate: a host file is checked against the host schema, errors at their line and column', () => {
    const good = join(dir, 'good.yaml');
    writeFileSync(good, `version: 1\nhost:\n  id: scada-1\n  broker: { url: mqtt://127.0.0.1:1883 }\n  store: { path: ${join(dir, 'h.db')} }\n`);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'version: 1\nhost:\n  id: a/b\n  broker: { url: http://x }\n  batchSize: 3\n');
    const ok = runCli(['validate', good]);
    expect(ok.stdout).toContain(`${good}: ok (host scada-1)`);
    expect(ok.code).toBe(0);
    const r = runCli(['validate', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${bad}:3:7: host.id: id must not contain '/', '+' or '#'`);
    expect(r.stderr).toContain(`${bad}:4:18: host.broker.url: url must start with mqtt://`);
    expect(r.stderr).toContain(`${bad}:5:3: host.batchSize: unknown key`);
  });

  it('schema --host prints the host JSON Schema', () => {
    const r = runCli(['schema', '--host']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as { title: string; properties: { host: { properties: Record<string, unknown> } } };
    expect(s.title).toBe('fieldgate host configuration');
    expect(Object.keys(s.properties.host.properties)).toEqual(expect.arrayContaining(['id', 'broker', 'store', 'http', 'groups', 'ackPrefix']));
  });

  it('export on an empty history prints the CSV header; bad options exit 2', () => {
    const file = join(dir, 'good.yaml');
    const r = runCli(['host', 'export', '--config', file, '--format', 'csv']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('node,device,metric,datatype,timestamp,value,quality,historical\n');
    expect(runCli(['host', 'export', '--config', file, '--format', 'xml']).code).toBe(2);
    expect(runCli(['host', 'export', '--config', file, '--from', 'yesterday']).code).toBe(2);
    expect(runCli(['host', 'export']).code).toBe(2);
    expect(runCli(['host', 'write', '--config', file, 'justone']).code).toBe(2);
  });
});
