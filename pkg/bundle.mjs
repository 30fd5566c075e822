// Bundles the compiled app (tsc's dist/) into what the .deb carries (issue 15): one minified
// ES module for the CLI plus a chunk per lazily imported part (`await import()` of the host,
// probe, upstream, TLS listener, OPC UA browse...), so a site still loads only what it uses.
// A demo started from ~440 module files (our ~170, zod's 95, yaml's 72, ...); each is a file
// resolution and a source string kept in V8's heap. The bundle is a handful of files, its
// source minified.
// usage: node pkg/bundle.mjs DIST_IN OUT_DIR   (the entry becomes OUT_DIR/src/cli.js)
// Reproducible: esbuild's output depends only on its inputs, options and paths relative to
// absWorkingDir (no times; minified output has no path comments; chunk names are hashes).
// Also a module: bench/broker.mjs (BENCH_BUNDLE=1) bundles its broker entry with these same
// options, so the bench measures the broker as the package ships it (issue 15).
import { build } from 'esbuild';
import { dirname, join, resolve } from 'node:path';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Left to Node's own loader from node_modules, each for a reason:
// - native addons and what loads them (better-sqlite3, serialport, unix-dgram);
// - the heavy optional stacks imported on first use only (node-opcua-*, modbus-serial, pg,
//   pino-pretty): they stay out of the entry either way, and modbus-serial's CommonJS export
//   shape is what drivers/modbus/line.ts reads under Node's interop, not esbuild's;
// - mqtt.js (upstream, watch, host; loaded with the first of them): it calls url.parse(), whose
//   deprecation warning (DEP0169) Node prints on stderr unless the caller is in node_modules;
//   bundled, every site with an upstream wrote it to the journal;
// - ws's optional native speed-ups, which ws requires inside try/catch.
const external = [
  'better-sqlite3', 'serialport', '@serialport/*', 'unix-dgram',
  'node-opcua-client', 'node-opcua-certificate-manager', 'node-opcua', 'node-opcua-*',
  'modbus-serial', 'pg', 'pg-native', 'pino-pretty', 'mqtt',
  'bufferutil', 'utf-8-validate',
];

// zod's namespace object re-exports every one of its ~45 message locales (z.locales), which
// tree shaking cannot drop: 264 KiB of the 455 KiB zod chunk, kept as source in V8's heap for
// the process's life. fieldgate never switches locale (English messages, set by zod itself
// from locales/en.js, which stays), so z.locales is bundled empty.
const noZodLocales = {
  name: 'no-zod-locales',
  setup(b) {
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (a) => (/[\\/]node_modules[\\/]zod[\\/]/.test(a.importer) ? { path: 'zod-locales', namespace: 'fg-empty' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'fg-empty' }, () => ({ contents: 'export {};', loader: 'js' }));
  },
};

/**
 * The package's esbuild options for tsc's output in `distIn`, written to `outDir`/src.
 * `entryPoints` defaults to the CLI (what the .deb runs); the broker bench passes its own
 * entry, which imports from the same dist/.
 */
export function bundleOptions(distIn, outDir, entryPoints = { cli: join(distIn, 'src', 'cli.js') }) {
  return {
    // Paths (and so the chunks' content hashes) relative to the app folder, not to where the
    // build runs: pkg/build.sh builds in a fresh temporary folder each time.
    absWorkingDir: resolve(dirname(distIn)),
    plugins: [noZodLocales],
    entryPoints,
    outdir: join(outDir, 'src'),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    minify: true,
    legalComments: 'eof',
    external,
    chunkNames: 'chunks/[hash]',
    // CommonJS dependencies bundled into an ES module still call require() for Node's built-ins.
    banner: { js: "import{createRequire as __fgCreateRequire}from'node:module';const require=__fgCreateRequire(import.meta.url);" },
    logLevel: 'warning',
    metafile: true,
  };
}

/** Builds with bundleOptions(); returns esbuild's result (metafile included). */
export function bundle(distIn, outDir, entryPoints) {
  return build(bundleOptions(distIn, outDir, entryPoints));
}

// Run as a script (pkg/build.sh), not imported: argv[1] may name it through a symlink.
if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [distIn, outDir] = process.argv.slice(2);
  if (!distIn || !outDir) throw new Error('usage: node pkg/bundle.mjs DIST_IN OUT_DIR');
  const result = await bundle(distIn, outDir);
  const outputs = Object.entries(result.metafile.outputs);
  const bytes = outputs.reduce((a, [, o]) => a + o.bytes, 0);
  process.stdout.write(`bundle: ${outputs.length} files, ${Math.round(bytes / 1024)} KiB\n`);
}
