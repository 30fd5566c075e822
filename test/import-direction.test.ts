// Imports follow the data (issue 16, docs/architecture.md): every runtime module of src/ and
// drivers/ belongs to a layer, and a layer imports only the layers declared below. A backward
// import fails here with the file, the import and what its layer may use.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

type Layer = 'shared' | 'config' | 'runtime' | 'drivers' | 'broker' | 'store' | 'sparkplug' | 'bridge' | 'probe' | 'host' | 'observe' | 'app';

/**
 * What each layer may import besides itself. `shared` is the vocabulary every layer may use
 * (clock, tag types, passwords, errors, logger, metrics, MQTT encodings); `app` is the
 * composition at src/ root (cli, gateway), the only place that names drivers/all.ts.
 */
const MAY_IMPORT: Record<Layer, readonly Layer[]> = {
  shared: [],
  config: ['shared'],
  runtime: ['shared', 'config'],
  drivers: ['shared', 'config', 'runtime'],
  broker: ['shared', 'config'],
  // The store implements the persistence interface the broker declares.
  store: ['shared', 'config', 'broker'],
  sparkplug: ['shared', 'config', 'runtime', 'store'],
  bridge: ['shared', 'config', 'store'],
  probe: ['shared', 'config', 'runtime'],
  host: ['shared', 'config', 'store', 'sparkplug', 'bridge'],
  // observe reads the others (health, status page) and is read by none.
  observe: ['shared', 'config', 'runtime', 'broker', 'store', 'sparkplug', 'bridge'],
  app: ['shared', 'config', 'runtime', 'drivers', 'broker', 'store', 'sparkplug', 'bridge', 'probe', 'host', 'observe'],
};

/** Modules of other folders that are shared vocabulary (used by every layer, import only leaves). */
const SHARED_FILES = new Set(['src/errors.ts', 'src/observe/logger.ts', 'src/observe/metrics.ts']);

export function layerOf(file: string): Layer | undefined {
  if (SHARED_FILES.has(file) || file.startsWith('src/shared/') || file.startsWith('src/mqtt/')) return 'shared';
  if (file.startsWith('drivers/')) return 'drivers';
  const parts = file.split('/');
  if (parts[0] !== 'src') return undefined;
  if (parts.length === 2) return 'app';
  const folder = parts[1] ?? '';
  return folder in MAY_IMPORT ? (folder as Layer) : undefined;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'";]*?\bfrom\s*['"](\.{1,2}\/[^'"]+)['"]|\bimport\s*\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"](\.{1,2}\/[^'"]+)['"]/g;

/** Relative imports of one source file, as repository paths of .ts files. */
export function importsOf(file: string, source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec === undefined) continue;
    out.push(normalize(join(dirname(file), spec)).replace(/\.js$/, '.ts'));
  }
  return out;
}

/** Every import that goes against MAY_IMPORT, one readable line each. */
export function violations(files: ReadonlyMap<string, string>): string[] {
  const found: string[] = [];
  for (const [file, source] of files) {
    const from = layerOf(file);
    if (from === undefined) {
      found.push(`${file}: in no layer; add its folder to MAY_IMPORT in test/import-direction.test.ts`);
      continue;
    }
    for (const target of importsOf(file, source)) {
      const to = layerOf(target);
      if (to === undefined || to === from) continue;
      if (!MAY_IMPORT[from].includes(to)) found.push(`${file} imports ${target}: ${from} may import only ${MAY_IMPORT[from].join(', ') || 'other shared modules'}, not ${to}`);
    }
  }
  return found;
}

const TEST_SUPPORT = /(\.test\.ts|\.brute\.ts|-fixture\.ts|-suite\.ts)$|\/(testing|peers|testcases|fixtures)\//;

function runtimeSources(): Map<string, string> {
  const files = new Map<string, string>();
  for (const top of ['src', 'drivers']) {
    for (const entry of readdirSync(join(ROOT, top), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
      const file = relative(ROOT, join(entry.parentPath, entry.name));
      if (!TEST_SUPPORT.test(file)) files.set(file, readFileSync(join(ROOT, file), 'utf8'));
    }
  }
  return files;
}

/** One job per module (issue 16): a runtime module past this has two, and is split. */
const MAX_MODULE_LINES = 350;

export function oversized(files: ReadonlyMap<string, string>): string[] {
  const found: string[] = [];
  for (const [file, source] of files) {
    const lines = source.split('\n').length - (source.endsWith('\n') ? 1 : 0);
    if (lines > MAX_MODULE_LINES) found.push(`${file}: ${lines} lines, more than ${MAX_MODULE_LINES}`);
  }
  return found;
}

describe('module size', () => {
  it(`no runtime module has more than ${MAX_MODULE_LINES} lines`, () => {
    expect(oversized(runtimeSources())).toEqual([]);
  });

  it('names the file and its length', () => {
    expect(oversized(new Map([['src/a.ts', 'x\n'.repeat(351)], ['src/b.ts', 'x\n'.repeat(350)]]))).toEqual(['src/a.ts: 351 lines, more than 350']);
  });
});

describe('import direction', () => {
  it('every runtime module imports only the layers its layer may use', () => {
    const files = runtimeSources();
    expect(files.size).toBeGreaterThan(100);
    expect(violations(files)).toEqual([]);
  });

  it('names the file, the import and the rule when an import goes backwards', () => {
    const tree = new Map([
      ['src/config/load.ts', "import type { DriverFactory } from '../runtime/driver.js';\nimport { x } from '../shared/clock.js';"],
      ['src/broker/core.ts', "const m = await import('../bridge/bridge.js');"],
      ['src/runtime/driver.ts', "export type { ConfigProblem } from '../config/driver-schema.js';"],
    ]);
    expect(violations(tree)).toEqual([
      'src/config/load.ts imports src/runtime/driver.ts: config may import only shared, not runtime',
      'src/broker/core.ts imports src/bridge/bridge.ts: broker may import only shared, config, not bridge',
    ]);
  });
});
