import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinDrivers } from '../drivers/all.js';
import { configReferenceMarkdown } from '../src/config/reference.js';
import { ROOT } from './helpers/cli.js';

const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

describe('documentation', () => {
  it('docs/config-reference.md is what the schema generates (run `npm run docs` after a schema change)', () => {
    expect(read('docs/config-reference.md')).toBe(configReferenceMarkdown(builtinDrivers));
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
