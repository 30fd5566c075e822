// Which topic a broker most likely refused when it closed the session right after a publish
// (MQTT 3.1.1 has no other way to refuse one; upstream-guard.ts). In order: an ack fence still
// waiting for its PUBACK (the case: RabbitMQ refusing fieldgate/fence/...), the oldest
// record still unacknowledged (its topic as stored), the last thing published outside the
// outbox (births).
import type { Outbox } from '../store/outbox.js';
import type { AckFence } from './ack-fence.js';

export function suspectTopic(
  outbox: Pick<Outbox, 'read'>,
  inflight: ReadonlyMap<number, unknown>,
  fence: AckFence | undefined,
  lastPublished: string | undefined,
): string | undefined {
  if (fence?.waiting === true) return fence.topic;
  let oldest = Infinity;
  for (const seq of inflight.keys()) if (seq < oldest) oldest = seq;
  if (oldest !== Infinity) {
    try {
      const r = outbox.read(oldest - 1, 1)[0];
      if (r !== undefined && r.seq === oldest) return r.topic;
    } catch {
      // A store error here only costs the diagnosis.
    }
  }
  return lastPublished;
}
