// Loaded with `node --require` into the gateway by bench/footprint.mjs. On exit it writes where
// the memory went to $FG_PROBE_OUT: V8's heap and its spaces, and the CommonJS packages loaded
// with their source size (ESM imports of CommonJS packages go through require.cache too; the
// gateway's own ESM modules are not listed: they are the small part).
const { statSync, writeFileSync } = require('node:fs');
const v8 = require('node:v8');

process.on('exit', () => {
  const out = process.env.FG_PROBE_OUT;
  if (!out) return;
  const packages = new Map();
  for (const file of Object.keys(require.cache)) {
    const m = /node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(file);
    const name = m ? m[1] : '(app)';
    let bytes = 0;
    try { bytes = statSync(file).size; } catch { /* a built-in or a removed file */ }
    const p = packages.get(name) ?? { name, files: 0, bytes: 0 };
    p.files++;
    p.bytes += bytes;
    packages.set(name, p);
  }
  writeFileSync(out, JSON.stringify({
    heap: v8.getHeapStatistics(),
    spaces: v8.getHeapSpaceStatistics().map((s) => ({ name: s.space_name, size: s.space_size, used: s.space_used_size })),
    external: process.memoryUsage().external,
    packages: [...packages.values()].sort((a, b) => b.bytes - a.bytes),
  }));
});
