import { z } from 'zod';
import { sparkplugId } from '../fields.js';

export const siteSchema = z
  .strictObject({
    group: sparkplugId('Sparkplug group_id'),
    node: sparkplugId('Sparkplug edge_node_id'),
    description: z.string().optional().meta({ description: 'free text shown on the status page' }),
  })
  .meta({ description: 'who this gateway is: its Sparkplug group and edge node id' });

export type SiteConfig = z.infer<typeof siteSchema>;
