// The pieces of a client connection to a central MQTT broker that the gateway's `upstream:`
// and the host's `host.broker:` share (issue 16: one schema, so the two files accept the same
// URLs, TLS options and ack topics and say so in the same words).
import { z } from 'zod';

/** The broker URL; `error` names which broker the file is missing. */
export const brokerUrl = (error: string) =>
  z.string({ error }).regex(/^(mqtts?|wss?):\/\/[^\s]+$/, 'url must start with mqtt://, mqtts://, ws:// or wss://');

export const protocolVersion = z.union([z.literal(4), z.literal(5)], { error: 'protocolVersion must be 4 (MQTT 3.1.1) or 5' });

export const tlsSchema = z
  .strictObject({
    ca: z.string().optional().meta({ description: 'PEM file of the CA that signed the broker certificate' }),
    cert: z.string().optional().meta({ description: 'PEM file of the client certificate' }),
    key: z.string().optional().meta({ description: 'PEM file of the client private key' }),
    rejectUnauthorized: z.boolean().default(true).meta({ description: 'verify the broker certificate (turn off only on a lab bench)' }),
    servername: z.string().optional().meta({ description: 'SNI / certificate name when it differs from the URL host' }),
  })
  .meta({ description: 'for mqtts:// and wss://' });

/** The topic prefix of the `confirm: host` acks (`<ackPrefix>/<group>/<node>`, docs/dedup.md). */
export const ackPrefix = (description: string) =>
  z
    .string()
    .min(1)
    .regex(/^[^#+]+$/, 'ackPrefix is a topic prefix, not a filter')
    .default('fieldgate/ack')
    .meta({ description });
