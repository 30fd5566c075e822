// Every broken site file in test/fixtures/bad-config names its expected errors in
// `# expect: LINE:COL: path: message-prefix` header lines. `fieldgate validate` must print
// exactly those errors (all of them, no others) as FILE:LINE:COL: path: message and exit 2.
// The fixtures are checked in-process through the function the command runs; the CLI itself
// runs on a bad fixture below, for the exit code and the output streams.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinDrivers } from '../drivers/all.js';
import { validateFile } from '../src/validate-file.js';
import { ROOT, runCli } from './helpers/cli.js';

const DIR = join(ROOT, 'test', 'fixtures', 'bad-config');
const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort();

describe('fieldgate validate on broken site files', () => {
  it('has at least 20 broken fixtures', () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
  });

  delete process.env.FG_TEST_SECRET_THAT_IS_NOT_SET;

  it.each(files)('%s', async (name) => {
    const file = join(DIR, name);
    const expected = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('# expect: '))
      .map((l) => l.slice('# expect: '.length));
    expect(expected.length, 'fixture declares its expected errors').toBeGreaterThan(0);

    const r = await validateFile(file, builtinDrivers);
    expect(r.ok).toBe(false);
    const stderr = r.ok ? '' : r.message;
    const errors = stderr.split('\n').filter((l) => l.startsWith(`${file}:`));
    expect(errors, stderr).toHaveLength(expected.length);
    for (const want of expected) {
      expect(errors.some((l) => l.startsWith(`${file}:${want}`)), `missing "${want}" in:\n${stderr}`).toBe(true);
    }
  });
});

describe('fieldgate validate on good site files', () => {
  const good = [
    ...readdirSync(join(ROOT, 'config')).filter((f) => f.endsWith('.yaml')).map((f) => join(ROOT, 'config', f)),
    ...readdirSync(join(ROOT, 'drivers'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => join(ROOT, 'drivers', d.name, 'example.yaml')),
  ];

  it('passes every file in config/ and every driver example, exit 0', () => {
    const r = runCli(['validate', ...good]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const f of good) expect(r.stdout).toContain(`${f}: ok`);
  });

  it('exits 2 when one of several files is bad, and still reports the good ones', () => {
    const r = runCli(['validate', join(ROOT, 'config', 'demo.yaml'), join(DIR, 'typo-key.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('demo.yaml: ok');
    expect(r.stderr).toContain('typo-key.yaml:6:5: devices[0].pollIntervall: unknown key');
  });

  it('reports an unreadable file instead of crashing', () => {
    const r = runCli(['validate', join(DIR, 'does-not-exist.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/does-not-exist\.yaml:1:1: \(document\): cannot read the file \(ENOENT\)/);
  });
});
