import { MemoryOutbox } from './memory-outbox.js';
import { outboxContract } from '../../test/contracts/outbox-suite.js';

outboxContract('memory', (o) => {
  const outbox = new MemoryOutbox({
    maxBytes: o.maxBytes ?? 1 << 30,
    maxAgeMs: o.maxAgeMs ?? 86_400_000,
    onFull: o.onFull ?? 'drop-oldest',
    ...(o.now !== undefined ? { now: o.now } : {}),
  });
  return { outbox, cleanup: () => outbox.close() };
});
