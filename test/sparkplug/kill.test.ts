// The gateway dies without a goodbye (kill -9): the broker delivers its Will, the NDEATH, with
// the bdSeq of the session's NBIRTH [tck-id-payloads-ndeath-will-message]; the next start
// continues with the next bdSeq from the store.
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AedesUpstream } from '../helpers/aedes-upstream.js';
import { startCli } from '../helpers/cli.js';
import { birthMetric, TestHost } from './host.js';
import { siteYaml } from './gateway-fixture.js';
import { useCleanups } from '../helpers/cleanups.js';

const cleanups = useCleanups({ ignoreErrors: true });

describe('Sparkplug NDEATH on kill -9', () => {
  it('the broker publishes the Will with the NBIRTH bdSeq, and a restart births with the next one', async () => {
    const broker = await AedesUpstream.started(cleanups);
    const host = await TestHost.connected(broker.url, cleanups);
    const dir = mkdtempSync(join(tmpdir(), 'fg-kill-'));
    const file = join(dir, 'site.yaml');
    writeFileSync(file, siteYaml({ url: broker.url, dir }));

    const first = startCli(['run', '--config', file, '--log-level', 'warn']);
    cleanups.push(async () => void first.child.kill('SIGKILL'));
    const nbirth = await host.waitFor((m) => m.type === 'NBIRTH', 0, 15_000);
    await host.waitFor((m) => m.type === 'DDATA');
    first.child.kill('SIGKILL');
    await first.exited;
    const death = await host.waitFor((m) => m.type === 'NDEATH', 0, 15_000);
    expect(death).toMatchObject({ qos: 1, retain: false });
    expect(death.p.metrics?.[0]?.longValue).toBe(birthMetric(nbirth, 'bdSeq')?.longValue);

    const second = startCli(['run', '--config', file, '--log-level', 'warn']);
    cleanups.push(async () => {
      second.child.kill('SIGTERM');
      await second.exited;
    });
    const again = await host.waitFor((m) => m.type === 'NBIRTH', host.messages.indexOf(death), 15_000);
    expect(Number(birthMetric(again, 'bdSeq')?.longValue)).toBe(Number(birthMetric(nbirth, 'bdSeq')?.longValue) + 1);
  });
});
