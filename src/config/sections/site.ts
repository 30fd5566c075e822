import { z } from 'zod';
import { duration, sparkplugId } from '../fields.js';

export const siteSchema = z
  .strictObject({
    group: sparkplugId('Sparkplug group_id'),
    node: sparkplugId('Sparkplug edge_node_id'),
    description: z.string().optional().meta({ description: 'free text shown on the status page' }),
    primaryHost: z
      .string()
      .min(1)
      .regex(/^[^/+#]+$/, "primaryHost must not contain '/', '+' or '#'")
      .optional()
      .meta({ description: 'Sparkplug primary host id: births wait for its STATE online, and its offline STATE restarts the session' }),
    nodeMetricsInterval: duration('how often the edge node metrics (uptime, backlog, devices) are refreshed by NDATA').prefault('30s'),
  })
  .meta({ description: 'who this gateway is: its Sparkplug group and edge node id' });

export type SiteConfig = z.infer<typeof siteSchema>;
