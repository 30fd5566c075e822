import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinDrivers } from '../../drivers/all.js';
import { ConfigError, parseConfigText } from './load.js';

const minimal = (extra = '') => `version: 1\nsite: { group: g, node: n }\n${extra}`;

function errorsOf(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfigText(text, 'site.yaml', builtinDrivers, { env });
  } catch (e) {
    if (e instanceof ConfigError) return e.message.split('\n');
    throw e;
  }
  return [];
}

describe('config loading', () => {
  it('fills defaults and parses durations and sizes', () => {
    const cfg = parseConfigText(
      minimal(`store: { maxBytes: 1MiB }\ndevices:\n  - { name: d, driver: simulator, pollInterval: 250ms, tags: [ { name: t } ] }\n`),
      'site.yaml',
      builtinDrivers,
      { env: {} },
    );
    expect(cfg.observe.http).toEqual({ enabled: true, host: '127.0.0.1', port: 8080 });
    expect(cfg.store).toEqual({ path: './data/fieldgate.db', maxBytes: 1_048_576, maxAge: 604_800_000, onFull: 'drop-oldest', synchronous: 'full' });
    const d = cfg.devices[0];
    expect(d?.pollInterval).toBe(250);
    expect(d?.timeout).toBe(2000);
    expect(d?.backoff).toEqual({ initial: 1000, max: 30_000 });
    expect(d?.tags[0]).toMatchObject({ name: 't', type: 'float64', scale: 1, offset: 0, writable: false });
  });

  it('accepts the config contract keys of the foundation issue', () => {
    const cfg = parseConfigText(
      `version: 1
site: { group: factory-a, node: edge-01 }
observe: { http: { host: 127.0.0.1, port: 8080 } }
broker:
  listeners: [ { host: 127.0.0.1, port: 1883 } ]
store: { path: ./data/fieldgate.db, maxBytes: 512MiB, maxAge: 7d, onFull: drop-oldest }
upstream:
  url: mqtt://central.example:1883
  protocolVersion: 5
devices: []
`,
      'site.yaml',
      builtinDrivers,
    );
    expect(cfg.broker?.listeners).toEqual([{ host: '127.0.0.1', port: 1883, protocol: 'mqtt', path: '/mqtt' }]);
    expect(cfg.upstream).toMatchObject({ url: 'mqtt://central.example:1883', protocolVersion: 5 });
    expect(cfg.store?.maxBytes).toBe(512 * 1024 * 1024);
  });

  it('substitutes ${env:...} and ${file:...} secrets, trimming one trailing newline', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-secret-'));
    writeFileSync(join(dir, 'pw.txt'), 's3cret-from-file\n');
    const text = minimal(`upstream:\n  url: mqtt://127.0.0.1:1883\n  username: \${env:FG_USER}\n  password: \${file:${join(dir, 'pw.txt')}}\n`);
    const cfg = parseConfigText(text, join(dir, 'site.yaml'), builtinDrivers, { env: { FG_USER: 'edge' } });
    expect(cfg.upstream?.username).toBe('edge');
    expect(cfg.upstream?.password).toBe('s3cret-from-file');
  });

  it('resolves a relative ${file:...} against the config file directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-secret-'));
    writeFileSync(join(dir, 'pw'), 'relative');
    const cfg = parseConfigText(minimal('upstream: { url: "mqtt://h", password: "${file:pw}" }\n'), join(dir, 'site.yaml'), builtinDrivers, { env: {} });
    expect(cfg.upstream?.password).toBe('relative');
  });

  it('never puts a resolved secret into an error message', () => {
    const errors = errorsOf(minimal('upstream:\n  url: ${env:FG_URL}\n'), { FG_URL: 'not-a-url-with-SECRET' });
    expect(errors.join('\n')).toContain('upstream.url: url must start with');
    expect(errors.join('\n')).not.toContain('SECRET');
  });

  it('reports every problem at once, sorted by position', () => {
    const errors = errorsOf(`version: 3
site: { group: 'a/b', node: n }
observe: { logLevel: loud }
devices:
  - { name: d, driver: simulator, tags: [ { name: t, type: float99 } ] }
`);
    expect(errors).toEqual([
      'site.yaml:1:10: version: version must be 1',
      "site.yaml:2:16: site.group: Sparkplug group_id must not contain '/', '+', '#' or spaces (Sparkplug topic rules)",
      'site.yaml:3:22: observe.logLevel: logLevel must be one of fatal, error, warn, info, debug, trace, silent',
      expect.stringMatching(/^site\.yaml:5:60: devices\[0\]\.tags\[0\]\.type: type must be one of bool/),
    ]);
  });

  it('reports an unknown key at the key itself', () => {
    expect(errorsOf(minimal('stor: {}\n'))).toEqual(['site.yaml:3:1: stor: unknown key "stor" (did you mean "store"?)']);
  });

  it('rejects a writable tag on a driver that cannot write', () => {
    const readOnly = { ...builtinDrivers[0]!, type: 'readonly', capabilities: { poll: true, write: false, subscribe: false, browse: false } };
    expect(() =>
      parseConfigText(minimal('devices:\n  - { name: d, driver: readonly, tags: [ { name: t, writable: true, signal: { kind: counter } } ] }\n'), 'site.yaml', [readOnly]),
    ).toThrow(/devices\[0\]\.tags\[0\]\.writable: driver "readonly" cannot write/);
  });

  it('rejects a non-mapping document', () => {
    expect(errorsOf('- just\n- a list\n')).toEqual(['site.yaml:1:1: (document): expected object, received array']);
  });
});

describe('upstream.inflight', () => {
  it('accepts exactly the packet ids the drain owns and refuses a window that could never fill', async () => {
    const { DRAIN_IDS } = await import('../bridge/packet-ids.js');
    const at = (n: number) => errorsOf(minimal(`upstream: { url: mqtt://127.0.0.1:1883, inflight: ${n} }\n`));
    expect(at(DRAIN_IDS)).toEqual([]);
    expect(at(DRAIN_IDS + 1).join('\n')).toMatch(/site\.yaml:\d+:\d+: upstream\.inflight: .*64512/);
  });
});
