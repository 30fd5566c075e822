import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../observe/logger.js';
import { MemoryOutbox } from '../store/memory-outbox.js';
import { AedesUpstream, type TransportOptions } from '../../test/helpers/aedes-upstream.js';
import { makeBridge, until } from '../../test/helpers/bridge-fixture.js';
import { makePki, type Pki } from '../../test/helpers/pki.js';
import { sample } from '../../test/helpers/records.js';
import type { Bridge } from './bridge.js';

let pki: Pki;
let upstream: AedesUpstream | undefined;
let bridge: Bridge | undefined;

beforeAll(() => {
  pki = makePki();
});
afterAll(() => rmSync(pki.dir, { recursive: true, force: true }));
afterEach(async () => {
  await bridge?.stop();
  bridge = undefined;
  await upstream?.close();
  upstream = undefined;
});

function outbox(): MemoryOutbox {
  const o = new MemoryOutbox({ maxBytes: 1e9, maxAgeMs: 1e9, onFull: 'drop-oldest' });
  o.append(Array.from({ length: 20 }, (_, i) => sample('d', i)));
  return o;
}

async function drainOver(t: TransportOptions, tlsCfg?: { ca?: string; cert?: string; key?: string }): Promise<void> {
  upstream = await AedesUpstream.start({}, t);
  const o = outbox();
  bridge = makeBridge(o, upstream.url, {
    session: {
      url: upstream.url,
      protocolVersion: 4,
      clientId: `fg-tls-${Math.random().toString(36).slice(2, 8)}`,
      keepaliveMs: 30_000,
      connectTimeoutMs: 2000,
      ...(tlsCfg !== undefined ? { tls: { ...tlsCfg, rejectUnauthorized: true } } : {}),
    },
  });
  bridge.start();
  await upstream.waitFor(20, 5000);
  await until(() => o.stats().depth === 0, 5000, 'drained');
}

describe('upstream transports', () => {
  it('mqtts:// with a CA, a client certificate and key (mutual TLS)', async () => {
    await drainOver(
      { transport: 'tls', tls: { key: pki.serverKey, cert: pki.serverCert, ca: pki.ca, requestCert: true } },
      { ca: pki.caFile, cert: pki.clientCertFile, key: pki.clientKeyFile },
    );
  });

  it('ws:// (MQTT over WebSocket)', async () => {
    await drainOver({ transport: 'ws' });
  });

  it('wss:// with a CA', async () => {
    await drainOver({ transport: 'wss', tls: { key: pki.serverKey, cert: pki.serverCert } }, { ca: pki.caFile });
  });

  it('refuses a broker whose certificate the configured CA did not sign, keeps retrying, sends nothing', async () => {
    upstream = await AedesUpstream.start({}, { transport: 'tls', tls: { key: pki.serverKey, cert: pki.serverCert } });
    const lines: string[] = [];
    const logger = createLogger({ destination: new Writable({ write(c: Buffer, _e, cb) { lines.push(c.toString()); cb(); } }) });
    const o = outbox();
    bridge = makeBridge(o, upstream.url, {
      logger,
      // Every attempt logged, so the lines count attempts (repeats are otherwise held back).
      failureLogIntervalMs: 0,
      session: { url: upstream.url, protocolVersion: 4, clientId: 'fg-badca', keepaliveMs: 30_000, connectTimeoutMs: 2000, password: 'hunter2-secret', username: 'u', tls: { ca: pki.otherCaFile, rejectUnauthorized: true } },
    });
    bridge.start();
    await until(() => lines.filter((l) => l.includes('upstream error')).length >= 2, 5000, 'two failed attempts');
    expect(lines.filter((l) => l.includes('upstream error')).map((l) => (JSON.parse(l) as { failedAttempts: number }).failedAttempts).slice(0, 2)).toEqual([1, 2]);
    expect(bridge.isConnected).toBe(false);
    expect(upstream.received).toHaveLength(0);
    expect(o.stats().depth).toBe(20);
    expect(lines.join('')).toMatch(/certificate|self.signed|unable to verify/i);
    expect(lines.join('')).not.toContain('hunter2-secret');
  });
});
