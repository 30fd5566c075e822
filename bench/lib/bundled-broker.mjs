// The broker bench's fieldgate as the package ships it (issue 15; bench/broker.mjs BENCH_BUNDLE=1).
// The .deb runs an esbuild bundle of dist/ (pkg/bundle.mjs: one minified module and a chunk per
// lazy import), not tsc's one unminified file per module, whose sources V8 keeps in its heap.
// This bundles bench/fieldgate-broker.mjs and the dist/ modules it imports with pkg/bundle.mjs's
// own options (not a copy of them) into `dir`. Needs `npm run build` first.
import { symlinkSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle } from '../../pkg/bundle.mjs';

const bench = fileURLToPath(new URL('..', import.meta.url));
const root = join(bench, '..');

export async function bundleBroker(dir) {
  const result = await bundle(join(root, 'dist'), dir, { 'fieldgate-broker': join(bench, 'fieldgate-broker.mjs') });
  // As in the package's app/ folder: package.json makes the .js files ES modules, and the
  // externals (native addons, lazily loaded stacks) load from node_modules.
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  const outputs = Object.values(result.metafile.outputs);
  return {
    entry: join(dir, 'src', 'fieldgate-broker.js'),
    files: outputs.length,
    kib: Math.round(outputs.reduce((a, o) => a + o.bytes, 0) / 1024),
    external: [...new Set(outputs.flatMap((o) => o.imports.filter((i) => i.external && !isBuiltin(i.path)).map((i) => i.path)))].sort(),
  };
}
