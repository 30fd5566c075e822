import { z } from 'zod';

/** A feature the gateway serves on a topic prefix of the local broker: values out, commands in. */
function prefixedFeature(enabled: boolean, prefix: string, description: string) {
  return z
    .strictObject({
      enabled: z.boolean().default(enabled),
      prefix: z.string().min(1).regex(/^[^#+]+$/, 'prefix is a topic, not a filter').default(prefix),
    })
    .prefault({})
    .meta({ description });
}

// What the gateway itself publishes into the local broker for HMIs and scripts on site.
export const localSchema = z
  .strictObject({
    sparkplug: z
      .boolean()
      .default(true)
      .meta({ description: 'publish the Sparkplug B stream (births, DATA, deaths) into the local broker, and take NCMD/DCMD from it' }),
    values: prefixedFeature(false, 'fieldgate/values', 'plain JSON current value per tag, retained, at <prefix>/<device>/<tag>, for tools that do not speak Sparkplug'),
    commands: prefixedFeature(
      true,
      'fieldgate/cmd',
      'writes from local clients: publish a JSON value to <prefix>/<device>/<tag>; the result comes back on <prefix>-result/<device>/<tag>; the broker ACL decides who may',
    ),
  })
  .meta({ description: 'what the gateway publishes into its local broker' });

export type LocalConfig = z.infer<typeof localSchema>;
