import { z } from 'zod';

// What the gateway itself publishes into the local broker for HMIs and scripts on site.
export const localSchema = z
  .strictObject({
    sparkplug: z
      .boolean()
      .default(true)
      .meta({ description: 'publish the Sparkplug B stream (births, DATA, deaths) into the local broker, and take NCMD/DCMD from it' }),
    values: z
      .strictObject({
        enabled: z.boolean().default(false),
        prefix: z.string().min(1).regex(/^[^#+]+$/, 'prefix is a topic, not a filter').default('fieldgate/values'),
      })
      .prefault({})
      .meta({ description: 'plain JSON current value per tag, retained, at <prefix>/<device>/<tag>, for tools that do not speak Sparkplug' }),
    commands: z
      .strictObject({
        enabled: z.boolean().default(true),
        prefix: z.string().min(1).regex(/^[^#+]+$/, 'prefix is a topic, not a filter').default('fieldgate/cmd'),
      })
      .prefault({})
      .meta({ description: 'writes from local clients: publish a JSON value to <prefix>/<device>/<tag>; the result comes back on <prefix>-result/<device>/<tag>; the broker ACL decides who may' }),
  })
  .meta({ description: 'what the gateway publishes into its local broker' });

export type LocalConfig = z.infer<typeof localSchema>;
