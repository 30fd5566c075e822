// The modbus driver's metrics. Families are shared by every device (the registry returns the
// existing family for a name) and told apart by the `device` label.
import type { Counter, Histogram, MetricsRegistry } from '../../src/observe/metrics.js';
import type { FailureKind } from './request-error.js';

const RESPONSE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export class ModbusMetrics {
  private readonly requests: Counter;
  private readonly errors: Counter;
  private readonly response: Histogram;
  private readonly overruns: Counter;

  constructor(registry: MetricsRegistry, private readonly device: string) {
    this.requests = registry.counter('fieldgate_modbus_requests_total', 'Modbus requests sent, by device and function code');
    this.errors = registry.counter('fieldgate_modbus_errors_total', 'Modbus requests that failed, by device and kind (timeout, exception, crc, connection, aborted)');
    this.response = registry.histogram('fieldgate_modbus_response_seconds', 'time from queueing a Modbus request to its answer', RESPONSE_BUCKETS);
    this.overruns = registry.counter('fieldgate_modbus_poll_overruns_total', 'polls that took longer than the device poll interval');
  }

  request(fc: number): void {
    this.requests.inc({ device: this.device, fc: String(fc) });
  }

  error(kind: FailureKind): void {
    this.errors.inc({ device: this.device, kind });
  }

  responseTime(seconds: number): void {
    this.response.observe({ device: this.device }, seconds);
  }

  overrun(): void {
    this.overruns.inc({ device: this.device });
  }
}
