// docs/config-reference.md, generated from the same JSON Schema that `fieldgate schema` prints,
// so the reference can never disagree with the validator. A test fails when it is stale.
import { z } from 'zod';
import type { DriverSchema } from './driver-schema.js';
import { commonDeviceShape, commonTagShape } from './sections/devices.js';
import { configJsonSchema } from './schema.js';

export type Json = Record<string, unknown>;

export interface Row {
  key: string;
  type: string;
  def: string;
  description: string;
}

function typeOf(s: Json): string {
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (Array.isArray(s.enum)) return (s.enum as unknown[]).map((v) => `\`${String(v)}\``).join(' \\| ');
  const alts = (s.anyOf ?? s.oneOf) as Json[] | undefined;
  if (alts !== undefined) return alts.map(typeOf).join(' or ');
  const t = s.type;
  if (Array.isArray(t)) return t.join(' or ');
  if (t === 'array') return `list of ${typeOf((s.items as Json | undefined) ?? {})}`;
  if (t === 'object') {
    // A variant of a discriminated union: name it by its discriminator.
    const tagged = Object.entries((s.properties as Record<string, Json> | undefined) ?? {}).find(([, p]) => p.const !== undefined);
    return tagged === undefined ? 'mapping' : `\`{${tagged[0]}: ${String(tagged[1].const)}}\``;
  }
  if (typeof t === 'string') return t;
  return 'any';
}

export function flatten(schema: Json, prefix: string, rows: Row[], required: boolean): void {
  const props = schema.properties as Record<string, Json> | undefined;
  const req = new Set((schema.required as string[] | undefined) ?? []);
  if (props === undefined) return;
  for (const [name, p] of Object.entries(props)) {
    const key = prefix === '' ? name : `${prefix}.${name}`;
    const isObject = p.type === 'object' && p.properties !== undefined;
    const items = p.items as Json | undefined;
    const isObjectList = p.type === 'array' && items?.type === 'object';
    rows.push({
      key: isObjectList ? `${key}[]` : key,
      type: isObject ? 'mapping' : isObjectList ? 'list of mappings' : typeOf(p),
      def: p.default !== undefined && !isObject ? `\`${JSON.stringify(p.default)}\`` : req.has(name) && required ? '**required**' : '',
      description: String(p.description ?? '').replace(/\|/g, '\\|'),
    });
    if (isObject) flatten(p, key, rows, req.has(name));
    if (isObjectList && items !== undefined) flatten(items, `${key}[]`, rows, true);
  }
}

export function table(rows: Row[]): string {
  return ['| key | type | default | description |', '| --- | --- | --- | --- |', ...rows.map((r) => `| \`${r.key}\` | ${r.type} | ${r.def} | ${r.description} |`)].join('\n');
}

export function configReferenceMarkdown(drivers: readonly DriverSchema[]): string {
  const schema = configJsonSchema(drivers) as Json;
  const props = schema.properties as Record<string, Json>;
  const out: string[] = [
    '# Site configuration reference',
    '',
    'Generated from the schema by `npm run docs`; do not edit by hand. The same schema validates',
    'site files (`fieldgate validate`) and is printed for editors by `fieldgate schema`.',
    'Durations: `500ms`, `1s`, `5m`, `2h`, `7d`; sizes: `64KiB`, `512MiB`, `2GB`. Both need a unit: a bare',
    'number is refused (`pollInterval: 1` would be ambiguous). Any string may use `${env:NAME}` or `${file:/path}`.',
    'Unknown keys are errors.',
  ];
  for (const [name, section] of Object.entries(props)) {
    if (name === 'devices') continue;
    out.push('', `## \`${name}\``, '');
    if (section.description !== undefined) out.push(String(section.description), '');
    const rows: Row[] = [];
    if (section.type === 'object') flatten(section, name, rows, true);
    else rows.push({ key: name, type: typeOf(section), def: '**required**', description: String(section.description ?? '') });
    out.push(table(rows));
  }
  const variants = (((props.devices as Json).items as Json).oneOf as Json[]) ?? [];
  const toJson = (shape: z.ZodRawShape) => z.toJSONSchema(z.strictObject(shape), { io: 'input', unrepresentable: 'any' }) as Json;
  const commonDevice = toJson(commonDeviceShape);
  const commonTag = toJson(commonTagShape);
  out.push('', '## `devices`', '', 'A list of devices. Every device has these fields, whatever its driver:', '');
  const deviceRows: Row[] = [];
  flatten(commonDevice, 'devices[]', deviceRows, true);
  out.push(table(deviceRows), '', 'Every tag has these fields, whatever its driver:', '');
  const tagRows: Row[] = [];
  flatten(commonTag, 'tags[]', tagRows, true);
  out.push(table(tagRows));
  const commonTagProps = commonTag.properties as Record<string, Json>;
  for (const v of variants) {
    const vp = v.properties as Record<string, Json>;
    const driver = String(vp.driver?.const);
    out.push('', `### driver \`${driver}\``, '', String(v.description ?? ''), '', `See [drivers/${driver}/README.md](../drivers/${driver}/README.md).`, '');
    const rows: Row[] = [];
    if (vp.connection !== undefined) flatten({ properties: { connection: vp.connection } }, '', rows, true);
    const tagProps = ((vp.tags?.items as Json | undefined)?.properties as Record<string, Json> | undefined) ?? {};
    // Only what the driver adds or changes: a field identical to the common one is listed above.
    const extra = Object.fromEntries(Object.entries(tagProps).filter(([k, p]) => JSON.stringify(p) !== JSON.stringify(commonTagProps[k])));
    flatten({ properties: extra }, 'tags[]', rows, true);
    out.push(table(rows));
  }
  return out.join('\n') + '\n';
}
