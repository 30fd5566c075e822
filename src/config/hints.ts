// Hints that turn a validation error into its fix (issue 12): the nearest valid key for a
// typo, `true`/`false` for a boolean written as a word, the closest choice for an enum value.
// The valid keys at a place in the file come from the JSON Schema the site file is checked
// against, walked with the document's own data so that a device's driver picks its variant.

type JsonSchema = {
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  const?: unknown;
};

/** The keys an object may have at `path` of the document, or [] when that is unclear. */
export function validKeysAt(root: Record<string, unknown>, path: ReadonlyArray<string | number>, data: unknown): string[] {
  const defs = (root.$defs ?? {}) as Record<string, JsonSchema>;
  let nodes: JsonSchema[] = [root as JsonSchema];
  let value: unknown = data;
  for (const seg of path) {
    const objects = nodes.flatMap((n) => variants(n, defs, value));
    value = value !== null && typeof value === 'object' ? (value as Record<string | number, unknown>)[seg] : undefined;
    nodes = objects.flatMap((n) => {
      if (typeof seg === 'number') return n.items !== undefined ? [n.items] : [];
      const p = n.properties?.[seg];
      return p !== undefined ? [p] : [];
    });
    if (nodes.length === 0) return [];
  }
  const keys = new Set<string>();
  for (const n of nodes.flatMap((x) => variants(x, defs, value))) for (const k of Object.keys(n.properties ?? {})) keys.add(k);
  return [...keys];
}

/** The alternatives of a schema node that fit the data: a device's variant by its driver. */
function variants(node: JsonSchema, defs: Record<string, JsonSchema>, value: unknown, depth = 0): JsonSchema[] {
  if (depth > 8) return [];
  if (node.$ref !== undefined) {
    const target = defs[node.$ref.replace(/^#\/\$defs\//, '')];
    return target !== undefined ? variants(target, defs, value, depth + 1) : [];
  }
  const alternatives = node.anyOf ?? node.oneOf ?? node.allOf;
  if (alternatives !== undefined) {
    const all = alternatives.flatMap((a) => variants(a, defs, value, depth + 1));
    const driver = value !== null && typeof value === 'object' ? (value as Record<string, unknown>).driver : undefined;
    const fitting = all.filter((a) => a.properties?.driver?.const === undefined || a.properties.driver.const === driver);
    return fitting.length > 0 ? fitting : all;
  }
  return [node];
}

/** The candidate closest to `word` when it is close enough to be a typo. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  const allowed = Math.max(2, Math.floor(word.length / 3));
  return best !== undefined && bestDistance <= allowed ? best : undefined;
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

const YAML_TRUE = new Set(['yes', 'y', 'on', 'true', 'enabled', 'enable', '1']);
const YAML_FALSE = new Set(['no', 'n', 'off', 'false', 'disabled', 'disable', '0']);

/** For a value that should be a boolean: what to write instead. */
export function booleanHint(input: unknown): string {
  const word = String(input).trim().toLowerCase();
  if (YAML_TRUE.has(word)) return `${JSON.stringify(input)} is not a boolean: write true (without quotes)`;
  if (YAML_FALSE.has(word)) return `${JSON.stringify(input)} is not a boolean: write false (without quotes)`;
  return `expected true or false, got ${JSON.stringify(input)}`;
}
