// Loaded with `node --require` into a gateway under test. On exit it writes which node-opcua
// modules the process loaded and its peak RSS to $FG_PROBE_OUT. ESM imports of CommonJS
// packages (node-opcua is CommonJS) go through the CommonJS loader, so require.cache sees them.
const { writeFileSync } = require('node:fs');

process.on('exit', () => {
  const out = process.env.FG_PROBE_OUT;
  if (!out) return;
  const opcua = Object.keys(require.cache).filter((f) => /[\\/]node_modules[\\/]node-opcua/.test(f));
  writeFileSync(out, JSON.stringify({ opcuaModules: opcua.length, sample: opcua.slice(0, 3), maxRssKiB: process.resourceUsage().maxRSS, rss: process.memoryUsage().rss }));
});
