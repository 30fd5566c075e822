// `${env:NAME}` and `${file:/path}` substitution in YAML string scalars, done on the parsed
// document so that an unresolved secret is reported at its own line and column. Resolved
// values live only in the returned config object; nothing here logs them.
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { isMap, isScalar, isSeq, type Document, type Node } from 'yaml';
import { rememberSecret } from '../shared/redact.js';

const REFERENCE = /\$\{(env|file):([^}]*)\}/g;

export interface SecretSources {
  env: NodeJS.ProcessEnv;
  /** Directory that relative `${file:...}` paths start from: the config file's own. */
  baseDir: string;
  readFile?: (path: string) => string;
}

export interface SecretProblem {
  node: Node;
  path: Array<string | number>;
  message: string;
}

export function substituteSecrets(doc: Document, sources: SecretSources): SecretProblem[] {
  const problems: SecretProblem[] = [];
  const read = sources.readFile ?? ((p: string) => readFileSync(p, 'utf8'));

  const visit = (node: unknown, path: Array<string | number>): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        visit(pair.value, [...path, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => visit(item, [...path, i]));
    } else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('${')) {
      node.value = node.value.replace(REFERENCE, (whole, kind: string, ref: string) => {
        const name = ref.trim();
        if (name === '') {
          problems.push({ node, path, message: `empty secret reference ${whole}` });
          return '';
        }
        if (kind === 'env') {
          const value = sources.env[name];
          if (value === undefined) {
            problems.push({ node, path, message: `environment variable ${name} is not set (referenced as \${env:${name}})` });
            return '';
          }
          rememberSecret(value);
          return value;
        }
        const file = isAbsolute(name) ? name : resolve(sources.baseDir, name);
        try {
          // One trailing newline is what editors and `echo` add; it is never part of a secret.
          const secret = read(file).replace(/\r?\n$/, '');
          rememberSecret(secret);
          return secret;
        } catch (e) {
          const reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
          problems.push({ node, path, message: `secret file ${file} cannot be read (${reason})` });
          return '';
        }
      });
    }
  };

  visit(doc.contents, []);
  return problems;
}
