// Deterministic signal generators: the same config, seed and clock give the same values, so
// tests and demos are reproducible.

export type Signal =
  | { kind: 'constant'; value: number | string | boolean }
  | { kind: 'counter'; start: number; step: number; max?: number | undefined }
  | { kind: 'sine'; min: number; max: number; period: number; phase: number }
  | { kind: 'square'; low: number; high: number; period: number; duty: number }
  | { kind: 'random-walk'; start: number; step: number; min: number; max: number }
  | { kind: 'states'; values: Array<number | string>; period: number };

/** mulberry32: tiny, seedable and good enough for a simulated sensor. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One signal's generator; `next(elapsedMs)` is called once per poll. */
export class SignalGenerator {
  private count = 0;
  private walk: number;
  private readonly random: () => number;

  constructor(private readonly signal: Signal, seed: number) {
    this.random = seededRandom(seed);
    this.walk = signal.kind === 'random-walk' ? signal.start : 0;
  }

  next(elapsedMs: number): number | string | boolean {
    const s = this.signal;
    const n = this.count++;
    switch (s.kind) {
      case 'constant':
        return s.value;
      case 'counter': {
        if (s.max === undefined) return s.start + n * s.step;
        const span = s.max - s.start + s.step;
        return s.start + ((n * s.step) % span);
      }
      case 'sine': {
        const mid = (s.max + s.min) / 2;
        const amp = (s.max - s.min) / 2;
        return mid + amp * Math.sin((2 * Math.PI * elapsedMs) / s.period + s.phase);
      }
      case 'square':
        return (elapsedMs % s.period) / s.period < s.duty ? s.high : s.low;
      case 'random-walk': {
        if (n > 0) this.walk += (this.random() * 2 - 1) * s.step;
        this.walk = Math.min(s.max, Math.max(s.min, this.walk));
        return this.walk;
      }
      case 'states': {
        const i = Math.floor(elapsedMs / s.period) % s.values.length;
        return s.values[i] ?? s.values[0] ?? 0;
      }
    }
  }
}
