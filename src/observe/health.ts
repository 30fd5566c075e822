// Per-component health for /health: each part of the gateway registers a check; the worst
// status wins. `degraded` still answers 200 (the gateway is doing its job, partly); `down` 503.

export type HealthStatus = 'ok' | 'degraded' | 'down';

export interface ComponentHealth {
  status: HealthStatus;
  [detail: string]: unknown;
}

export type HealthCheck = () => ComponentHealth;

const RANK: Record<HealthStatus, number> = { ok: 0, degraded: 1, down: 2 };

export class HealthRegistry {
  private readonly checks = new Map<string, HealthCheck>();

  register(component: string, check: HealthCheck): void {
    this.checks.set(component, check);
  }

  report(): { status: HealthStatus; components: Record<string, ComponentHealth> } {
    let status: HealthStatus = 'ok';
    const components: Record<string, ComponentHealth> = {};
    for (const [name, check] of this.checks) {
      let h: ComponentHealth;
      try {
        h = check();
      } catch (e) {
        h = { status: 'down', error: e instanceof Error ? e.message : String(e) };
      }
      components[name] = h;
      if (RANK[h.status] > RANK[status]) status = h.status;
    }
    return { status, components };
  }
}
