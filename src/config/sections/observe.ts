import { z } from 'zod';
import { host, port } from '../fields.js';

export const observeSchema = z
  .strictObject({
    http: z
      .strictObject({
        enabled: z.boolean().default(true),
        host: host.default('127.0.0.1').meta({ description: 'address the status endpoint binds; keep it on loopback unless a firewall guards it' }),
        port: port.default(8080),
      })
      .prefault({})
      .meta({ description: 'HTTP endpoint for /metrics (Prometheus) and /health' }),
    logLevel: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { error: 'logLevel must be one of fatal, error, warn, info, debug, trace, silent' })
      .default('info')
      .meta({ description: 'log level; --log-level on the command line wins' }),
    logSamples: z
      .boolean()
      .default(false)
      .meta({ description: 'log every tag update at info level (the demo turns this on)' }),
  })
  .meta({ description: 'logs, metrics and health' });

export type ObserveConfig = z.infer<typeof observeSchema>;
