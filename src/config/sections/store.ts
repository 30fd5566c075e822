import { z } from 'zod';
import { duration, size } from '../fields.js';

export const storeSchema = z
  .strictObject({
    path: z.string().min(1).default('./data/fieldgate.db').meta({ description: 'SQLite file; relative paths are relative to the working directory' }),
    maxBytes: size('disk budget for buffered data').prefault('512MiB'),
    maxAge: duration('buffered data older than this is dropped').prefault('7d'),
    onFull: z
      .enum(['drop-oldest', 'reject-new'])
      .default('drop-oldest')
      .meta({ description: 'what happens when the budget is reached; every drop is counted' }),
  })
  .meta({ description: 'the durable store-and-forward outbox' });

export type StoreConfig = z.infer<typeof storeSchema>;
