// The floor under the demo's RSS (issue 15): what the demo needs from Node itself, with no
// fieldgate code: better-sqlite3 on a WAL file with an insert every second, a TCP server, an
// HTTP server. Prints VmRSS (and its anonymous and file parts) after 10 s, then exits.
// Run it as the gateway runs, e.g. with the package's runtime and app (dpkg-deb -x the .deb to T):
//   MALLOC_ARENA_MAX=1 taskset -c 0 T/usr/lib/fieldgate/node/bin/node --max-semi-space-size=1 \
//     --optimize-for-size --max-opt=2 bench/footprint-floor.cjs T/usr/lib/fieldgate/app/node_modules/better-sqlite3
const { mkdtempSync, readFileSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const Database = require(process.argv[2] ?? 'better-sqlite3');
const dir = mkdtempSync(join(tmpdir(), 'fg-floor-'));
const db = new Database(join(dir, 'floor.db'));
db.pragma('journal_mode = WAL');
db.exec('create table t (k integer primary key, v blob)');
const insert = db.prepare('insert into t (v) values (?)');
const tcp = require('node:net').createServer((s) => s.destroy()).listen(0, '127.0.0.1');
const http = process.getBuiltinModule('node:http').createServer((_, res) => res.end('ok')).listen(0, '127.0.0.1');
const timer = setInterval(() => insert.run(Buffer.alloc(100)), 1000);
setTimeout(() => {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kib = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)[1]);
  console.log(`${process.version}: VmRSS ${(kib('VmRSS') / 1024).toFixed(1)} MiB (anonymous ${(kib('RssAnon') / 1024).toFixed(1)}, file ${(kib('RssFile') / 1024).toFixed(1)})`);
  clearInterval(timer);
  tcp.close();
  http.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
}, 10_000);
