// docs/json-consumers.md (issue 20), tested end to end: the worked example's site file, taken
// from the page itself, runs against a real upstream (aedes); `local.values` + `upstream.forward`
// deliver the documented JSON per tag through the outbox.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinDrivers } from '../drivers/all.js';
import { parseConfigText } from '../src/config/load.js';
import { Gateway } from '../src/gateway.js';
import { silentLogger } from '../src/observe/logger.js';
import { AedesUpstream } from './helpers/aedes-upstream.js';
import { ROOT } from './helpers/cli.js';
import { until } from './helpers/until.js';
import { useCleanups } from './helpers/cleanups.js';

const cleanups = useCleanups({ ignoreErrors: true });

describe('feeding a JSON consumer (docs/json-consumers.md)', () => {
  it('the worked example delivers one JSON document per tag update upstream', async () => {
    const page = readFileSync(join(ROOT, 'docs', 'json-consumers.md'), 'utf8');
    const example = /```yaml\n([\s\S]*?)```/.exec(page)?.[1];
    if (example === undefined) throw new Error('no yaml block in docs/json-consumers.md');
    const upstream = await AedesUpstream.started(cleanups);
    const dir = mkdtempSync(join(tmpdir(), 'fg-json-'));
    const text = example
      .replace('mqtt://central.example:1883', `mqtt://127.0.0.1:${upstream.port}`)
      .replace('/var/lib/fieldgate/fieldgate.db', join(dir, 'fg.db'))
      .replace('port: 1883', 'port: 0');
    const gw = new Gateway({ config: parseConfigText(text, join(dir, 'site.yaml'), builtinDrivers), drivers: builtinDrivers, logger: silentLogger() });
    await gw.start();
    cleanups.push(() => gw.stop());

    const docs = (topic: string) => upstream.received.filter((r) => r.topic === topic).map((r) => JSON.parse(r.payload.toString('utf8')) as Record<string, unknown>);
    await until(() => docs('plants/edge-01/values/pump-01/flow').length >= 2 && docs('plants/edge-01/values/pump-01/running').length >= 1, 10_000, 'forwarded values');
    const flow = docs('plants/edge-01/values/pump-01/flow');
    for (const d of flow) {
      expect(Object.keys(d).sort()).toEqual(['quality', 'timestamp', 'unit', 'value']);
      expect(d).toMatchObject({ quality: 'GOOD', unit: 'm3/h' });
      expect(typeof d.value).toBe('number');
      expect(String(d.value)).toMatch(/^\d+(\.\d{1,2})?$/); // decimals: 2
      expect(Math.abs(Date.now() - (d.timestamp as number))).toBeLessThan(60_000);
    }
    expect(docs('plants/edge-01/values/pump-01/running')[0]).toMatchObject({ quality: 'GOOD', value: expect.any(Boolean) });
  });
});
