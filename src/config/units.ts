// Durations and sizes as people write them in site files: `500ms`, `1s`, `7d`, `512MiB`.

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/;

/** Milliseconds from `500ms`, `1.5s`, `10m`, `7d`; a bare number is milliseconds. */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw new Error(`duration must be a non-negative number of milliseconds, got ${input}`);
    return input;
  }
  const m = DURATION.exec(input.trim());
  if (m === null) throw new Error(`"${input}" is not a duration (use e.g. 500ms, 1s, 5m, 2h, 7d)`);
  return Math.round(Number(m[1]) * (DURATION_UNITS[m[2] ?? ''] ?? NaN));
}

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

const SIZE = /^(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)$/i;

/** Bytes from `512MiB`, `1GB`, `64KiB`, `100B`; a bare number is bytes. */
export function parseSize(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isInteger(input) || input < 0) throw new Error(`size must be a non-negative whole number of bytes, got ${input}`);
    return input;
  }
  const m = SIZE.exec(input.trim());
  if (m === null) throw new Error(`"${input}" is not a size (use e.g. 64KiB, 512MiB, 2GB)`);
  return Math.floor(Number(m[1]) * (SIZE_UNITS[(m[2] ?? '').toLowerCase()] ?? NaN));
}

export function formatDuration(ms: number): string {
  for (const [unit, factor] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= factor && ms % factor === 0) return `${ms / factor}${unit}`;
  }
  return `${ms}ms`;
}
