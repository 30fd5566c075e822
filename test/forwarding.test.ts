// The gateway's forwarding rules end to end: a local client's topic goes up through the outbox
// (with its dedup key), an upstream command comes down into the local broker, and a command
// that lands under a forwarded filter is never sent back up.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { AedesUpstream } from './helpers/aedes-upstream.js';
import { until } from './helpers/until.js';
import { siteYaml } from './helpers/site-yaml.js';
import { useCleanups } from './helpers/cleanups.js';
import { runGateway } from './helpers/gateway.js';

const cleanups = useCleanups({ ignoreErrors: true });

async function connect(url: string): Promise<MqttClient> {
  const c = mqtt.connect(url, { reconnectPeriod: 0 });
  cleanups.push(() => new Promise<void>((r) => c.end(true, {}, () => r())));
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
  });
  return c;
}


describe('forwarding between the local broker and the upstream', () => {
  it('forwards local topics up, brings commands down, and never loops', async () => {
    const upstream = await AedesUpstream.started(cleanups);
    const dir = mkdtempSync(join(tmpdir(), 'fg-fwd-'));
    // site/cmd/# (where commands land) is under the forwarded site/#: the config check allows
    // it because the forwarded side is plants/edge-1/site, not central/edge-1; the origin tag
    // is what stops the command going back up.
    const gw = await runGateway(siteYaml({
        store: `{ path: ${join(dir, 'fg.db')} }`,
        local: '{ sparkplug: false }',
        upstream: `
  url: ${upstream.url}
  protocolVersion: 4
  forward: [ { from: 'site/#', to: 'plants/edge-1/site', qos: 1 } ]
  commands: [ { from: 'central/edge-1/#', to: 'site/cmd', qos: 1 } ]
`,
      }), dir, cleanups);
    const local = await connect(`mqtt://127.0.0.1:${gw.localBroker!.addresses()[0]!.port}`);
    const got: string[] = [];
    local.on('message', (t, p) => got.push(`${t} ${p.toString()}`));
    await new Promise<void>((r) => local.subscribe('site/cmd/#', { qos: 1 }, () => r()));
    await until(() => gw.upstreamPath!.bridge.isConnected);

    await new Promise<void>((r) => local.publish('site/line1/temp', '21.5', { qos: 1 }, () => r()));
    await until(() => upstream.received.some((m) => m.topic === 'plants/edge-1/site/line1/temp'));
    const up = upstream.received.find((m) => m.topic === 'plants/edge-1/site/line1/temp')!;
    expect(up.payload.toString()).toBe('21.5');
    expect(up.key).toBeUndefined(); // 3.1.1 upstream and not Sparkplug: no place for the key

    const central = await connect(upstream.url);
    await new Promise<void>((r) => central.publish('central/edge-1/valve/open', '1', { qos: 1 }, () => r()));
    await until(() => got.includes('site/cmd/valve/open 1'));
    await new Promise((r) => setTimeout(r, 300));
    expect(upstream.received.some((m) => m.topic.includes('cmd/valve'))).toBe(false);
  });
});
