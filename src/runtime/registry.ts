import type { DriverFactory } from './driver.js';

/** Drivers by name. Built per process (no module-level state: a test may build two). */
export class DriverRegistry {
  private readonly byType = new Map<string, DriverFactory>();

  constructor(factories: readonly DriverFactory[] = []) {
    for (const f of factories) this.register(f);
  }

  register(factory: DriverFactory): void {
    if (this.byType.has(factory.type)) throw new Error(`driver "${factory.type}" is registered twice`);
    this.byType.set(factory.type, factory);
  }

  get(type: string): DriverFactory | undefined {
    return this.byType.get(type);
  }

  list(): DriverFactory[] {
    return [...this.byType.values()];
  }

  types(): string[] {
    return [...this.byType.keys()];
  }
}
