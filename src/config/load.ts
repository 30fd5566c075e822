// Reading a site file: YAML with positions, secret substitution, schema validation, and every
// problem reported at once as `FILE:LINE:COL: path.to.field: message`.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { FieldgateError } from '../errors.js';
import type { DriverSchema } from './driver-schema.js';
import { buildConfigSchema, configJsonSchema, type GatewayConfig } from './schema.js';
import { booleanHint, nearest, validKeysAt } from './hints.js';
import { redactSecrets } from '../shared/redact.js';
import { substituteSecrets } from './secrets.js';

export interface ConfigIssue {
  file: string;
  line: number;
  col: number;
  /** `devices[0].tags[2].deadband`, or '' for the document itself. */
  path: string;
  message: string;
}

export function formatIssue(i: ConfigIssue): string {
  return `${i.file}:${i.line}:${i.col}: ${i.path === '' ? '(document)' : i.path}: ${i.message}`;
}

export class ConfigError extends FieldgateError {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    super('FG_ERR_CONFIG', issues.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out;
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  readFile?: (path: string) => string;
}

/** The text of a site or host file; a file that cannot be read is a ConfigError at 1:1. */
export function readConfigText(file: string, options: LoadOptions = {}): string {
  try {
    return (options.readFile ?? ((p: string) => readFileSync(p, 'utf8')))(file);
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new ConfigError([{ file, line: 1, col: 1, path: '', message: `cannot read the file (${reason})` }]);
  }
}

export function loadConfigFile(file: string, drivers: readonly DriverSchema[], options: LoadOptions = {}): GatewayConfig {
  return parseConfigText(readConfigText(file, options), file, drivers, options);
}

export function parseConfigText(text: string, file: string, drivers: readonly DriverSchema[], options: LoadOptions = {}): GatewayConfig {
  return parseYamlWithSchema(text, file, buildConfigSchema(drivers), options, () => configJsonSchema(drivers)) as GatewayConfig;
}

/**
 * The site file's YAML reading (positions, secrets, every problem at once) for any schema:
 * the host file (`fieldgate host`, issue 14) is read the same way.
 */
export function parseYamlWithSchema(
  text: string,
  file: string,
  schema: z.ZodType,
  options: LoadOptions = {},
  /** The JSON Schema an unknown key's nearest valid key is taken from; none: no suggestion. */
  jsonSchemaOf?: () => Record<string, unknown>,
): unknown {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined) => lines.linePos(offset ?? 0);

  if (doc.errors.length > 0) {
    // A syntax error leaves nothing reliable to validate; report every YAML error and stop.
    throw new ConfigError(
      doc.errors.map((e) => {
        const pos = e.linePos?.[0] ?? at(e.pos[0]);
        return { file, line: pos.line, col: pos.col, path: '', message: `YAML: ${e.message.split('\n')[0] ?? e.code}` };
      }),
    );
  }

  const issues: ConfigIssue[] = [];
  const secretProblems = substituteSecrets(doc, {
    env: options.env ?? process.env,
    baseDir: dirname(resolve(file)),
    ...(options.readFile ? { readFile: options.readFile } : {}),
  });
  for (const p of secretProblems) {
    const pos = at(p.node.range?.[0]);
    issues.push({ file, line: pos.line, col: pos.col, path: formatPath(p.path), message: p.message });
  }

  const data: unknown = doc.toJS({ maxAliasCount: 1000 });
  const result = schema.safeParse(data);
  if (!result.success) {
    let jsonSchema: Record<string, unknown> | undefined;
    const keysAt = (path: ReadonlyArray<string | number>): string[] =>
      jsonSchemaOf === undefined ? [] : validKeysAt((jsonSchema ??= jsonSchemaOf()), path, data);
    issues.push(...zodIssues(result.error.issues, doc, file, at, { data, keysAt }));
  }

  if (issues.length > 0) {
    issues.sort((a, b) => a.line - b.line || a.col - b.col);
    // A size or duration error echoes its input: never a resolved secret (issue 19).
    for (const i of issues) i.message = redactSecrets(i.message);
    throw new ConfigError(issues);
  }
  return (result as { data: unknown }).data;
}

interface Hints {
  data: unknown;
  /** Valid keys of the mapping at a path (from the JSON Schema, lazily). */
  keysAt: (path: ReadonlyArray<string | number>) => string[];
}

function zodIssues(
  zIssues: readonly z.core.$ZodIssue[],
  doc: Document,
  file: string,
  at: (offset: number | undefined) => { line: number; col: number },
  hints: Hints,
): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of zIssues) {
    const path = issue.path as Array<string | number>;
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const node = locate(doc, path, key);
        const pos = at(node?.range?.[0]);
        const suggestion = nearest(key, hints.keysAt(path));
        const message = suggestion !== undefined ? `unknown key "${key}" (did you mean "${suggestion}"?)` : `unknown key "${key}"`;
        out.push({ file, line: pos.line, col: pos.col, path: formatPath([...path, key]), message });
      }
      continue;
    }
    const node = locate(doc, path);
    const pos = at(node?.range?.[0]);
    out.push({ file, line: pos.line, col: pos.col, path: formatPath(path), message: describe(issue, valueAt(hints.data, path)) });
  }
  return out;
}

function valueAt(data: unknown, path: ReadonlyArray<string | number>): unknown {
  let v = data;
  for (const seg of path) v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[seg] : undefined;
  return v;
}

function describe(issue: z.core.$ZodIssue, input: unknown): string {
  if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) return 'is required';
  if (issue.code === 'invalid_type' && issue.expected === 'boolean' && input !== undefined) return booleanHint(input);
  const message = issue.message.replace(/^Invalid input: /, '');
  if (issue.code === 'invalid_value' && typeof input === 'string') {
    // An enum value with a typo: name the closest choice.
    const suggestion = nearest(input, issue.values.filter((v): v is string => typeof v === 'string'));
    if (suggestion !== undefined) return `${message} (did you mean "${suggestion}"?)`;
  }
  return message;
}

/**
 * The YAML node for a path: the value when present, the key when the value is empty, else the
 * nearest ancestor that exists (a missing field is reported at its parent). With `key`, the
 * key node of that entry of the mapping at `path` (an unknown key is reported at itself).
 */
function locate(doc: Document, path: ReadonlyArray<string | number>, key?: string): Node | undefined {
  let node: unknown = doc.contents;
  let best: Node | undefined = (doc.contents as Node | null) ?? undefined;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (pair === undefined) return best;
      if (pair.value === null || pair.value === undefined) return (pair.key as Node | null) ?? best;
      node = pair.value;
      best = pair.value as Node;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (item === undefined || item === null) return best;
      node = item;
      best = item as Node;
    } else {
      return best;
    }
  }
  if (key !== undefined && isMap(node)) {
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
    if (pair !== undefined) return (pair.key as Node | null) ?? best;
  }
  return best;
}
