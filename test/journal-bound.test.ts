// Issue 19, "A journal flood keeps the store within maxBytes + 20%": one user allowed one
// command topic sent 30 x 1 MiB and the file reached 106 MB with maxBytes 16 MiB. Here a real
// gateway with a 1 MiB store takes 30 x 1 MiB commands and then 3,000 small ones (30 clients) through its
// local broker: the journal keeps clipped values, trims its oldest rows (counted) and the file
// stays within maxBytes + 20 %.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { until } from './helpers/until.js';
import { useCleanups } from './helpers/cleanups.js';
import { runGateway } from './helpers/gateway.js';

const cleanups = useCleanups();

describe('command journal flood', () => {
  it('keeps the store file within maxBytes + 20 % and counts the trimmed rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-journal-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'fg.db');
    const maxBytes = 1024 * 1024;
    const gw = await runGateway(`version: 1
site: { group: plant, node: edge-1 }
observe: { http: { enabled: false } }
store: { path: ${path}, maxBytes: 1MiB }
broker:
  listeners: [ { host: 127.0.0.1, port: 0 } ]
  limits: { maxPacketSize: 2MiB }
  sysInterval: false
local: { sparkplug: false }
devices:
  - name: pump
    driver: simulator
    pollInterval: 1s
    tags:
      - { name: label, type: string, writable: true, signal: { kind: states, values: [a] } }
`, dir, cleanups);
    const port = gw.localBroker!.addresses()[0]!.port;
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
    cleanups.push(() => client.endAsync());
    let results = 0;
    await client.subscribeAsync('fieldgate/cmd-result/#', { qos: 1 });
    client.on('message', () => (results += 1));
    const t0 = Date.now();
    const big = JSON.stringify('x'.repeat(1024 * 1024 - 16));
    for (let i = 0; i < 30; i++) await client.publishAsync('fieldgate/cmd/pump/label', big, { qos: 1 });
    // Thirty clients, a hundred each: within the per-client command rate (issue 19), so every
    // one is journaled and the journal has to trim.
    for (let c = 0; c < 30; c++) {
      const other = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
      cleanups.push(() => other.endAsync());
      await Promise.all(Array.from({ length: 100 }, (_, j) => other.publishAsync('fieldgate/cmd/pump/label', JSON.stringify(`value ${c}-${j} ${'y'.repeat(200)}`), { qos: 1 })));
    }
    await until(() => results >= 3030, 20_000, `every command answered (${results})`);
    const reader = new Database(path);
    cleanups.push(() => void reader.close());
    reader.pragma('wal_checkpoint(TRUNCATE)');
    const size = statSync(path).size;
    console.log(JSON.stringify({ fileBytes: size, maxBytes }));
    expect(size).toBeLessThanOrEqual(maxBytes * 1.2);
    const rows = (reader.prepare('SELECT COUNT(*) AS n, MAX(length(value)) AS longest FROM command_journal').get() as { n: number; longest: number });
    expect(rows.n).toBeGreaterThan(50);
    expect(rows.n).toBeLessThan(3030);
    expect(rows.longest).toBeLessThan(400);
    expect(gw.metrics.render()).toMatch(/fieldgate_command_journal_trimmed_rows [1-9]/);
  }, 60_000);
});
