// Issue 19, secrets: "the upstream URL's user:password (from ${env:}) is logged on every
// connect; validate echoes resolved secrets in size/duration errors ("PW9-S3cr3t" is not a
// size)". A real gateway logs through a real pino logger into a stream read back here.
import { PassThrough } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinDrivers } from '../drivers/all.js';
import { ConfigError, parseConfigText } from '../src/config/load.js';
import { Gateway } from '../src/gateway.js';
import { createLogger } from '../src/observe/logger.js';
import { AedesUpstream } from './helpers/aedes-upstream.js';
import { until } from './helpers/until.js';
import { useCleanups } from './helpers/cleanups.js';

const SECRET = 'PW9-S3cr3t';
const cleanups = useCleanups();

function capture() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  return { logger: createLogger({ level: 'debug', pretty: false, destination: stream }), text: () => text };
}

describe('secrets stay out of logs and errors', () => {
  it('the upstream URL password from ${env:} never reaches a log line, connected or failing', async () => {
    const upstream = await AedesUpstream.start();
    cleanups.push(() => upstream.stop());
    const dir = mkdtempSync(join(tmpdir(), 'fg-secret-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const yaml = (port: number) => `version: 1
site: { group: plant, node: edge-1 }
observe: { http: { enabled: false } }
store: { path: ${join(dir, 'fg.db')} }
upstream: { url: 'mqtt://edge:\${env:FG_PW}@127.0.0.1:${port}', protocolVersion: 4, reconnect: { min: 50ms, max: 100ms } }
devices:
  - { name: pump, driver: simulator, pollInterval: 100ms, tags: [ { name: count, type: uint32, signal: { kind: counter } } ] }
`;
    const log = capture();
    const config = parseConfigText(yaml(upstream.port), join(dir, 'site.yaml'), builtinDrivers, { env: { FG_PW: SECRET } });
    const gw = new Gateway({ config, drivers: builtinDrivers, logger: log.logger });
    await gw.start();
    cleanups.push(() => gw.stop());
    await until(() => log.text().includes('upstream connected'), 10_000, 'connected');
    await upstream.stop(); // and the failing reconnects log the URL too
    await until(() => log.text().includes('FG_ERR_UPSTREAM_CONNECT'), 10_000, 'a failed reconnect');
    expect(log.text()).toContain('127.0.0.1');
    expect(log.text()).not.toContain(SECRET);
  }, 30_000);

  it('validate does not echo a resolved secret in a size or duration error', () => {
    const text = `version: 1
site: { group: plant, node: edge-1 }
store: { maxBytes: '\${env:FG_PW}', maxAge: '\${env:FG_PW}' }
devices: []
`;
    let error: unknown;
    try {
      parseConfigText(text, 'site.yaml', builtinDrivers, { env: { FG_PW: SECRET } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/maxBytes/);
    expect(message).not.toContain(SECRET);
  });
});
