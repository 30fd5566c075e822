import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinDrivers } from '../drivers/all.js';
import { configReferenceMarkdown } from '../src/config/reference.js';
import { ERROR_CATALOGUE } from '../src/errors.js';
import { hostReferenceMarkdown } from '../src/host/config.js';
import { ROOT } from './helpers/cli.js';

const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

describe('documentation', () => {
  it('docs/config-reference.md is what the schema generates (run `npm run docs` after a schema change)', () => {
    expect(read('docs/config-reference.md')).toBe(configReferenceMarkdown(builtinDrivers));
  });

  it('docs/host-reference.md is what the host schema generates (run `npm run docs`)', () => {
    expect(read('docs/host-reference.md')).toBe(hostReferenceMarkdown());
  });

  it('the README opens with the demo command and the test command, and CI runs that test command', () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(read('README.md'))?.[1] ?? '';
    const commands = firstBlock.split('\n').map((l) => l.replace(/#.*$/, '').trim()).filter(Boolean);
    expect(commands).toEqual(['npm ci && npm start', 'npm test']);
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.start).toContain('cli.js demo');
    expect(scripts.test).toContain('vitest run');
    expect(read('.ci/run')).toMatch(/^npm test$/m);
  });

  it('every driver folder has its README, example config and testcases', () => {
    for (const d of builtinDrivers) {
      for (const f of ['README.md', 'example.yaml', 'index.ts']) expect(() => read(`drivers/${d.type}/${f}`), `${d.type}/${f}`).not.toThrow();
    }
  });
});

/** Every TypeScript source the gateway runs, as one string: what the guide's names must exist in. */
function runtimeSource(): string {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(join(ROOT, dir))) {
      const p = join(dir, name);
      if (statSync(join(ROOT, p)).isDirectory()) walk(p);
      else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(read(p));
    }
  };
  walk('src');
  walk('drivers');
  return out.join('\n');
}

describe('docs/operator-guide.md is true to the code', () => {
  const guide = read('docs/operator-guide.md');
  const source = runtimeSource();

  it('names only metrics the gateway exports', () => {
    const names = [...new Set(guide.match(/fieldgate_[a-z_]+/g) ?? [])];
    expect(names.length).toBeGreaterThan(5);
    for (const n of names) expect(source, n).toContain(`'${n}'`);
  });

  it('greps only for log messages the gateway writes', () => {
    const msgs = [...guide.matchAll(/\.msg == "([^"]+)"/g)].map((m) => m[1]!);
    expect(msgs.length).toBeGreaterThan(2);
    for (const m of msgs) expect(source, m).toContain(`'${m}'`);
  });

  it('names only error codes from the catalogue', () => {
    const codes = [...new Set(guide.match(/FG_ERR_[A-Z_]+/g) ?? [])];
    expect(codes.length).toBeGreaterThan(5);
    for (const c of codes) expect(Object.keys(ERROR_CATALOGUE), c).toContain(c);
  });

  it('names only configuration keys the reference lists', () => {
    const reference = read('docs/config-reference.md');
    const keys = [...new Set([...guide.matchAll(/`((?:site|observe|broker|store|upstream|local)\.[a-zA-Z.]+)`/g)].map((m) => m[1]!))];
    expect(keys.length).toBeGreaterThan(5);
    for (const k of keys) expect(reference, k).toMatch(new RegExp(`\\| \`${k.replace(/\./g, '\\.')}(\\[\\])?(\\.[a-zA-Z.]+)?\``));
  });

  it('uses only commands the command line has', () => {
    const cli = read('src/cli.ts');
    const known = new Set([...cli.matchAll(/case '([a-z]+)':/g)].map((m) => m[1]!).concat(builtinDrivers.map((d) => d.type), ['<driver>']));
    // Commands as typed: in code blocks and inline code, `fieldgate <word>`.
    const code = [...guide.matchAll(/```[a-z]*\n([\s\S]*?)```|`([^`\n]+)`/g)].map((m) => m[1] ?? m[2] ?? '').join('\n');
    const used = new Set([...code.matchAll(/(?<![-\w/])fieldgate (?=([a-z<>]+))/g)].map((m) => m[1]!).filter((w) => w !== 'fieldgate'));
    expect([...used]).toEqual(expect.arrayContaining(['validate', 'backup', 'passwd', 'schema']));
    for (const c of used) expect(known.has(c), `fieldgate ${c}`).toBe(true);
  });
});
