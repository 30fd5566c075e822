import { z } from 'zod';
import { host, port } from '../fields.js';

/** Loopback names and addresses: only these may serve the observe port without a login. */
export function isLoopbackHost(h: string): boolean {
  return h === 'localhost' || h === '::1' || h.startsWith('127.') || h.startsWith('::ffff:127.');
}

const httpTlsSchema = z
  .strictObject({
    cert: z.string().min(1).meta({ description: 'PEM certificate chain file' }),
    key: z.string().min(1).meta({ description: 'PEM private key file' }),
  })
  .meta({ description: 'serve HTTPS instead of HTTP; required when host is not a loopback address' });

export const observeSchema = z
  .strictObject({
    http: z
      .strictObject({
        enabled: z.boolean().default(true),
        host: host.default('127.0.0.1').meta({ description: 'address the status endpoint binds; off loopback it needs users and tls' }),
        port: port.default(8080),
        users: z
          .string()
          .min(1)
          .optional()
          .meta({ description: 'password file (`username:hash` lines from `fieldgate passwd`, as broker.passwordFile); requests that do not arrive on a loopback address must log in (HTTP Basic)' }),
        tls: httpTlsSchema.optional(),
      })
      .superRefine((h, ctx) => {
        if (isLoopbackHost(h.host)) return;
        // Basic credentials cross the network in the clear without TLS, and the page shows
        // every tag of the site: both are required together, never one without the other.
        const missing = [h.users === undefined ? 'users (a password file)' : '', h.tls === undefined ? 'tls (cert and key)' : ''].filter(Boolean);
        if (missing.length > 0) {
          ctx.addIssue({
            code: 'custom',
            path: ['host'],
            message: `${h.host} is not a loopback address: the status page, /metrics and /health then need a login over TLS; add ${missing.join(' and ')}, or bind 127.0.0.1`,
          });
        }
      })
      .prefault({})
      .meta({ description: 'HTTP endpoint for the status page (/), /status.json, /events, /metrics (Prometheus) and /health' }),
    logLevel: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { error: 'logLevel must be one of fatal, error, warn, info, debug, trace, silent' })
      .default('info')
      .meta({ description: 'log level; --log-level on the command line wins' }),
    logSamples: z
      .boolean()
      .default(false)
      .meta({ description: 'log every tag update at info level (the demo turns this on)' }),
  })
  .meta({ description: 'logs, metrics, health and the status page' });

export type ObserveConfig = z.infer<typeof observeSchema>;
export type ObserveHttpConfig = ObserveConfig['http'];
