// The `host:` section of a host file (`fieldgate host run --config host.yaml`, issue 14): the
// central Sparkplug primary host and historian. Its own file, beside the site file: a host
// and a gateway never share one process or one config.
import { z } from 'zod';
import { duration } from '../fields.js';
import { ackPrefix, brokerUrl, protocolVersion, tlsSchema } from './broker-connection.js';

const hostBroker = z
  .strictObject({
    url: brokerUrl('expected the central broker URL').meta({ description: 'the central broker the edge nodes publish to, e.g. mqtts://central.example:8883' }),
    protocolVersion: protocolVersion
      .default(5)
      .meta({ description: 'MQTT 5 carries the dedup key as a user property; on 3.1.1 it is read from the Sparkplug payload' }),
    clientId: z.string().min(1).optional().meta({ description: 'default: fieldgate-host-<id>' }),
    username: z.string().optional(),
    password: z.string().optional().meta({ description: 'use ${env:NAME} or ${file:/path}; never written to logs' }),
    tls: tlsSchema.optional(),
    keepalive: duration('MQTT keep alive').prefault('30s'),
    persistentSession: z
      .boolean()
      .default(true)
      .meta({
        description:
          'keep the broker session across host restarts (QoS 1 messages published while the host is down are delivered when it is back); PUBACKs are sent only after the samples are committed',
      }),
  })
  .meta({ description: 'the central MQTT broker' });

const sqliteStore = z.strictObject({
  path: z.string().min(1).default('./data/host.db').meta({ description: 'SQLite history file (WAL); relative paths are relative to the working directory' }),
});

const postgresStore = z.strictObject({
  postgres: z.strictObject({
    url: z.string().regex(/^postgres(ql)?:\/\//, 'url must start with postgres:// or postgresql://').meta({ description: 'e.g. postgres://historian@db.example/fieldgate; use ${env:NAME} for the password' }),
  }),
});

export const hostSchema = z
  .strictObject({
    id: z
      .string({ error: 'expected the primary host id' })
      .min(1)
      .regex(/^[^/+#]+$/, "id must not contain '/', '+' or '#'")
      .meta({ description: 'Sparkplug primary host id: STATE is published on spBv1.0/STATE/<id>; edge nodes name it in site.primaryHost' }),
    broker: hostBroker,
    store: z
      .union([postgresStore, sqliteStore], { error: 'store is { path: FILE } (SQLite) or { postgres: { url } }' })
      .prefault({})
      .meta({ description: 'where history is kept: SQLite by default, PostgreSQL for central installations' }),
    http: z
      .strictObject({
        host: z.string().default('127.0.0.1').meta({ description: 'listen address of the live page, JSON API and /metrics' }),
        port: z.number().int().min(0).max(65535).default(8090),
      })
      .optional()
      .meta({ description: 'the live page (/), /api/nodes, /metrics; omit to serve nothing' }),
    groups: z
      .array(z.string().min(1).regex(/^[^/+#]+$/, "a group id must not contain '/', '+' or '#'"))
      .default([])
      .meta({ description: 'Sparkplug groups to subscribe to; empty: every group (spBv1.0/#)' }),
    ackPrefix: ackPrefix('confirmations for upstream.confirm: host go to <ackPrefix>/<group>/<node> (retained, QoS 1, {"epoch","through"})'),
    batch: z
      .strictObject({
        maxSamples: z.number().int().min(1).default(5000).meta({ description: 'commit when this many samples wait' }),
        maxDelay: duration('commit at the latest this long after the first waiting message (the device-to-stored latency at low rates)').prefault('10ms'),
      })
      .prefault({})
      .meta({ description: 'history writes are batched: one transaction per batch' }),
    rebirthInterval: duration('at most one Rebirth NCMD per edge node within').prefault('5s'),
  })
  .meta({ description: 'the central Sparkplug primary host and historian (`fieldgate host run`)' });

export type HostConfig = z.infer<typeof hostSchema>;

/** The whole host file. */
export const hostFileSchema = z
  .strictObject({
    version: z.literal(1, { error: 'version must be 1' }),
    host: hostSchema,
  })
  .meta({ title: 'fieldgate host configuration' });

export type HostFile = z.infer<typeof hostFileSchema>;

export function hostJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(hostFileSchema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' });
}
