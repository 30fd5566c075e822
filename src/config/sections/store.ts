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
    synchronous: z
      .enum(['full', 'normal'])
      .default('full')
      .meta({
        description:
          'full: an accepted record survives a power cut (one fsync per group of appends); normal: survives a crash, a power cut can lose the last ~4 MiB of commits',
      }),
  })
  .meta({ description: 'the durable store-and-forward outbox' });

export type StoreConfig = z.infer<typeof storeSchema>;
