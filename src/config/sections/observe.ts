import { z } from 'zod';
import { host, port } from '../fields.js';

export const observeSchema = z
  .strictObject({
    http: z
      .union([
        z.strictObject({
          host: host.default('127.0.0.1').meta({ description: 'address the status endpoint binds' }),
          port: port.default(8080),
        }),
        z.literal(false),
      ])
      .prefault({})
      .meta({ description: 'HTTP endpoint for /metrics (Prometheus) and /health; false turns it off' }),
    logLevel: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info')
      .meta({ description: 'log level; --log-level on the command line wins' }),
    logSamples: z
      .boolean()
      .default(false)
      .meta({ description: 'log every tag update at info level (the demo turns this on)' }),
  })
  .meta({ description: 'logs, metrics and health' });

export type ObserveConfig = z.infer<typeof observeSchema>;
