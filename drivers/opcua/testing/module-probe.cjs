// Loaded with `node --require` into a gateway under test. On exit it writes which node-opcua
// modules the process loaded and its peak RSS to $FG_PROBE_OUT. ESM imports of CommonJS
// packages (node-opcua is CommonJS) go through the CommonJS loader, so require.cache sees them.
const { writeFileSync } = require('node:fs');

process.on('exit', () => {
  const out = process.env.FG_PROBE_OUT;
  if (!out) return;
  const files = Object.keys(require.cache);
  const opcua = files.filter((f) => /[\\/]node_modules[\\/]node-opcua/.test(f));
  // The other packages a site loads only when it uses them (issue 15): serial, Modbus, upstream.
  const optional = ['serialport', '@serialport', 'modbus-serial', 'mqtt'].filter((p) => files.some((f) => f.includes(`/node_modules/${p}/`)));
  // Node's own fetch/WebSocket client: an ESM import of node:http loads it on Node 26 (issue 15).
  const undici = process.moduleLoadList.some((m) => m.includes('undici'));
  // Node's own modules the process loaded (issue 15: each costs pages of the node binary and heap).
  const builtins = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice('NativeModule '.length));
  writeFileSync(out, JSON.stringify({ opcuaModules: opcua.length, sample: opcua.slice(0, 3), optional, undici, builtins, maxRssKiB: process.resourceUsage().maxRSS, rss: process.memoryUsage().rss }));
});
