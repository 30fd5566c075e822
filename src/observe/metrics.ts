// A small Prometheus-text metrics registry. prom-client would do, but it pulls in
// default process collectors and ~1 MB of code for what is a few maps and a renderer here.

export type Labels = Readonly<Record<string, string>>;

type Kind = 'counter' | 'gauge' | 'histogram';

interface Family {
  name: string;
  help: string;
  kind: Kind;
  render(): string[];
}

function labelKey(labels: Labels | undefined): string {
  if (labels === undefined) return '';
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return '';
  return keys.map((k) => `${k}="${escapeLabel(labels[k] ?? '')}"`).join(',');
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function sample(name: string, key: string, value: number): string {
  return key === '' ? `${name} ${formatValue(value)}` : `${name}{${key}} ${formatValue(value)}`;
}

export class Counter implements Family {
  readonly kind = 'counter' as const;
  private readonly values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string) {}

  inc(labels?: Labels, by = 1): void {
    if (by < 0) throw new RangeError(`counter ${this.name} cannot decrease`);
    const key = labelKey(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }

  get(labels?: Labels): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }

  render(): string[] {
    return [...this.values].map(([k, v]) => sample(this.name, k, v));
  }
}

export class Gauge implements Family {
  readonly kind = 'gauge' as const;
  private readonly values = new Map<string, number>();
  private readonly collectors: Array<() => Array<[Labels | undefined, number]>> = [];
  constructor(readonly name: string, readonly help: string) {}

  set(labels: Labels | undefined, value: number): void {
    this.values.set(labelKey(labels), value);
  }

  inc(labels?: Labels, by = 1): void {
    const key = labelKey(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }

  dec(labels?: Labels, by = 1): void {
    this.inc(labels, -by);
  }

  get(labels?: Labels): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }

  remove(labels: Labels): void {
    this.values.delete(labelKey(labels));
  }

  /** A value read at scrape time (queue depth, RSS) instead of being pushed. */
  collect(fn: () => Array<[Labels | undefined, number]>): void {
    this.collectors.push(fn);
  }

  render(): string[] {
    const lines = [...this.values].map(([k, v]) => sample(this.name, k, v));
    for (const fn of this.collectors) {
      for (const [labels, v] of fn()) lines.push(sample(this.name, labelKey(labels), v));
    }
    return lines;
  }
}

export class Histogram implements Family {
  readonly kind = 'histogram' as const;
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(readonly name: string, readonly help: string, readonly buckets: readonly number[]) {}

  observe(labels: Labels | undefined, value: number): void {
    const key = labelKey(labels);
    let s = this.series.get(key);
    if (s === undefined) {
      s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    for (let i = 0; i < this.buckets.length; i++) {
      if (value <= (this.buckets[i] ?? Infinity)) s.counts[i] = (s.counts[i] ?? 0) + 1;
    }
    s.sum += value;
    s.count += 1;
  }

  count(labels?: Labels): number {
    return this.series.get(labelKey(labels))?.count ?? 0;
  }

  render(): string[] {
    const lines: string[] = [];
    for (const [key, s] of this.series) {
      const prefix = key === '' ? '' : `${key},`;
      this.buckets.forEach((b, i) => {
        lines.push(`${this.name}_bucket{${prefix}le="${formatValue(b)}"} ${s.counts[i] ?? 0}`);
      });
      lines.push(`${this.name}_bucket{${prefix}le="+Inf"} ${s.count}`);
      lines.push(sample(`${this.name}_sum`, key, s.sum));
      lines.push(sample(`${this.name}_count`, key, s.count));
    }
    return lines;
  }
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

export class MetricsRegistry {
  private readonly families = new Map<string, Family>();

  counter(name: string, help: string): Counter {
    return this.register(name, () => new Counter(name, help), 'counter') as Counter;
  }

  gauge(name: string, help: string): Gauge {
    return this.register(name, () => new Gauge(name, help), 'gauge') as Gauge;
  }

  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.register(name, () => new Histogram(name, help, buckets), 'histogram') as Histogram;
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    const out: string[] = [];
    for (const f of this.families.values()) {
      out.push(`# HELP ${f.name} ${f.help.replace(/\n/g, ' ')}`);
      out.push(`# TYPE ${f.name} ${f.kind}`);
      out.push(...f.render());
    }
    return out.join('\n') + '\n';
  }

  // Registering the same name twice returns the existing family, so two devices of one driver
  // share `fieldgate_driver_requests_total` and tell themselves apart by labels.
  private register(name: string, make: () => Family, kind: Kind): Family {
    if (!NAME.test(name)) throw new Error(`invalid metric name "${name}"`);
    const existing = this.families.get(name);
    if (existing !== undefined) {
      if (existing.kind !== kind) throw new Error(`metric ${name} already registered as ${existing.kind}`);
      return existing;
    }
    const f = make();
    this.families.set(name, f);
    return f;
  }
}
