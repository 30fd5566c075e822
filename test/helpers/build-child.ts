// Child processes (kill -9 tests, benches) run plain JavaScript: this transpiles `src/` and a
// fixture script with TypeScript's transpileModule into test/artifacts/, once per worker.
// Imports already end in `.js`, so the tree runs as is and resolves node_modules upward.
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function collect(dir: string, out: string[]): void {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) collect(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
}

/** Returns the path of the transpiled entry script; `removeChildBuild()` deletes the tree. */
export function buildChild(entry: string): string {
  const outRoot = childRoot();
  const files: string[] = [];
  collect(join(ROOT, 'src'), files);
  collect(join(ROOT, 'test', 'fixtures'), files);
  files.push(join(ROOT, 'test', 'helpers', 'records.ts'));
  for (const f of files) {
    const js = ts.transpileModule(readFileSync(f, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      fileName: f,
    }).outputText;
    const out = join(outRoot, relative(ROOT, f)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, js);
  }
  // The worktree's package.json says "type": "module"; the artifacts inherit it by walking up.
  return join(outRoot, relative(ROOT, entry)).replace(/\.ts$/, '.js');
}

export const FIXTURES = join(ROOT, 'test', 'fixtures');

function childRoot(): string {
  return join(ROOT, 'test', 'artifacts', `child-${process.pid}`);
}

/** Call from afterAll once no child runs any more. */
export function removeChildBuild(): void {
  rmSync(childRoot(), { recursive: true, force: true });
}
