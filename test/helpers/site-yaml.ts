// The one site-file builder for tests: plant/edge-1, no status page, a loopback broker on any
// free port, unless a section says otherwise. Values are YAML text (a flow mapping, or a block
// starting with a newline), so a test states only what it is about.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type SiteSections = { store: string } & Partial<Record<'site' | 'observe' | 'broker' | 'local' | 'upstream' | 'devices', string>> & Record<string, string | undefined>;

const DEFAULTS = {
  site: '{ group: plant, node: edge-1 }',
  observe: '{ http: { enabled: false } }',
};

export function siteYaml(sections: SiteSections): string {
  const { devices, ...rest } = sections;
  const all: Record<string, string | undefined> = { ...DEFAULTS, broker: '{ listeners: [ { host: 127.0.0.1, port: 0 } ] }', ...rest, devices: devices ?? '[]' };
  const out = ['version: 1'];
  for (const [key, value] of Object.entries(all)) {
    if (value === undefined) continue;
    out.push(value.startsWith('\n') ? `${key}:${value.replace(/\n$/, '')}` : `${key}: ${value}`);
  }
  return `${out.join('\n')}\n`;
}

/** The simulated `pump` device most scenarios poll: a counter every 100 ms, plus `extraTags`. */
export function simulatedPump(...extraTags: string[]): string {
  const tags = ['{ name: count, type: uint32, signal: { kind: counter } }', ...extraTags];
  return `
  - name: pump
    driver: simulator
    pollInterval: 100ms
    tags:
${tags.map((t) => `      - ${t}`).join('\n')}
`;
}

/**
 * A simulated device that stops answering for one window (from `fault.after`, for `fault.for`):
 * the offline/online scenarios. `settings` are its other keys, as YAML values.
 */
export function simulatedOutage(name: string, settings: Record<string, string>, fault: { after: string; for: string }, tag: string): string {
  return `
  - name: ${name}
    driver: simulator
${Object.entries(settings).map(([key, yaml]) => `    ${key}: ${yaml}`).join('\n')}
    connection: { faults: [ { after: ${fault.after}, for: ${fault.for} } ] }
    tags: [ ${tag} ]
`;
}

/** `broker:` with one plain listener on a loopback port the test chose. */
export const loopbackBroker = (port: number): string => `{ listeners: [ { host: 127.0.0.1, port: ${port} } ] }`;

/** `observe:` with the status page on a loopback port the test chose, plus `extra` keys. */
export const statusPageOn = (port: number, extra = ''): string => `{ http: { host: 127.0.0.1, port: ${port} }${extra === '' ? '' : `, ${extra}`} }`;

/** Writes `siteYaml(sections)` to `<dir>/site.yaml`; returns that path. */
export function writeSite(dir: string, sections: SiteSections): string {
  const file = join(dir, 'site.yaml');
  writeFileSync(file, siteYaml(sections));
  return file;
}
