// `fieldgate schema` must describe the site file well enough for an editor: the demo file
// validates against it and a broken one does not.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from './helpers/cli.js';

describe('fieldgate schema', () => {
  const r = runCli(['schema']);
  const schema = JSON.parse(r.stdout) as Record<string, unknown>;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  const validate = ajv.compile(schema);
  const demo = parse(readFileSync(join(ROOT, 'config', 'demo.yaml'), 'utf8')) as Record<string, unknown>;

  it('prints a draft 2020-12 JSON Schema and exits 0', () => {
    expect(r.code).toBe(0);
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  });

  it('accepts config/demo.yaml and config/site-example.yaml', () => {
    expect(validate(demo), JSON.stringify(validate.errors)).toBe(true);
    const example = parse(readFileSync(join(ROOT, 'config', 'site-example.yaml'), 'utf8'));
    expect(validate(example), JSON.stringify(validate.errors)).toBe(true);
  });

  it('rejects a typo key, a wrong type and an unknown driver', () => {
    const typo = structuredClone(demo);
    (typo.site as Record<string, unknown>).nodeId = 'x';
    expect(validate(typo)).toBe(false);

    const wrongType = structuredClone(demo);
    (wrongType.devices as Array<Record<string, unknown>>)[0]!.offlineAfter = 'three';
    expect(validate(wrongType)).toBe(false);

    const unknownDriver = structuredClone(demo);
    (unknownDriver.devices as Array<Record<string, unknown>>)[0]!.driver = 'modbuss';
    expect(validate(unknownDriver)).toBe(false);
  });
});
