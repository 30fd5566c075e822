// Reading a host file (issue 14): the same YAML reader as the site file, another schema.
import { parse } from 'yaml';
import { parseYamlWithSchema, readConfigText, type LoadOptions } from '../config/load.js';
import { flatten, table, type Json, type Row } from '../config/reference.js';
import { hostFileSchema, hostJsonSchema, type HostFile } from '../config/sections/host.js';

export function loadHostConfigFile(file: string, options: LoadOptions = {}): HostFile {
  return parseYamlWithSchema(readConfigText(file, options), file, hostFileSchema, options) as HostFile;
}

/**
 * A host file has a top-level `host:` and no `site:`; `fieldgate validate` uses this to pick the
 * schema. Unparseable text is "not a host file" and gets the site file's YAML errors.
 */
export function looksLikeHostFile(text: string): boolean {
  try {
    const doc = parse(text) as unknown;
    return typeof doc === 'object' && doc !== null && 'host' in doc && !('site' in doc);
  } catch {
    return false;
  }
}

/** docs/host-reference.md, generated like the site reference; a test fails when it is stale. */
export function hostReferenceMarkdown(): string {
  const schema = hostJsonSchema() as Json;
  const host = (schema.properties as Record<string, Json>).host as Json;
  const props = host.properties as Record<string, Json>;
  const { store, ...rest } = props;
  const rows: Row[] = [];
  flatten({ properties: { version: (schema.properties as Record<string, Json>).version as Json }, required: ['version'] }, '', rows, true);
  flatten({ ...host, properties: rest }, 'host', rows, true);
  const alts = ((store?.anyOf as Json[] | undefined) ?? []).map((alt) => {
    const r: Row[] = [];
    flatten(alt, 'host.store', r, true);
    return table(r);
  });
  return [
    '# Host configuration reference',
    '',
    'Generated from the schema by `npm run docs`; do not edit by hand. The same schema validates',
    'host files (`fieldgate validate host.yaml`) and is printed for editors by `fieldgate schema --host`.',
    'Durations and `${env:NAME}` / `${file:/path}` secrets work as in the site file. Unknown keys are errors.',
    '',
    '## `host`',
    '',
    String(host.description ?? ''),
    '',
    table(rows),
    '',
    '### `host.store`',
    '',
    String(store?.description ?? ''),
    '',
    'SQLite (the default):',
    '',
    alts[1] ?? '',
    '',
    'PostgreSQL:',
    '',
    alts[0] ?? '',
    '',
  ].join('\n');
}
