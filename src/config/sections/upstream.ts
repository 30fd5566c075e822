import { z } from 'zod';

export const upstreamSchema = z
  .strictObject({
    url: z
      .string({ error: 'expected the upstream broker URL' })
      .regex(/^(mqtts?|wss?):\/\/[^\s]+$/, 'url must start with mqtt://, mqtts://, ws:// or wss://')
      .meta({ description: 'central broker, e.g. mqtts://central.example:8883' }),
    protocolVersion: z
      .union([z.literal(4), z.literal(5)], { error: 'protocolVersion must be 4 (MQTT 3.1.1) or 5' })
      .default(5),
    clientId: z.string().min(1).optional().meta({ description: 'default: fieldgate-<group>-<node>' }),
    username: z.string().optional(),
    password: z.string().optional().meta({ description: 'use ${env:NAME} or ${file:/path}; never written to logs' }),
  })
  .meta({ description: 'the central MQTT broker that receives the Sparkplug stream' });

export type UpstreamConfig = z.infer<typeof upstreamSchema>;
