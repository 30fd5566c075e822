// Metric aliases (spec 6.4.5): unique across the whole edge node, devices included
// [tck-id-payloads-alias-uniqueness]. Stable for the life of the process so that a rebirth
// repeats them; `Node Control/Rebirth` and bdSeq are never aliased.

export class AliasTable {
  private next = 1n;
  private readonly byKey = new Map<string, bigint>();
  private readonly byAlias = new Map<bigint, { device: string | undefined; metric: string }>();

  private key(device: string | undefined, metric: string): string {
    return `${device ?? ''}\u0000${metric}`;
  }

  aliasOf(device: string | undefined, metric: string): bigint {
    const k = this.key(device, metric);
    let a = this.byKey.get(k);
    if (a === undefined) {
      a = this.next++;
      this.byKey.set(k, a);
      this.byAlias.set(a, { device, metric });
    }
    return a;
  }

  lookup(alias: bigint): { device: string | undefined; metric: string } | undefined {
    return this.byAlias.get(alias);
  }
}
