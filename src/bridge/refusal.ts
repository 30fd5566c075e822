// MQTT 5 PUBACK / PUBREC with a reason code >= 0x80 [MQTT-3.4.2.1]. Quota exceeded (0x97) is
// transient: the session ends and the record is replayed after the backoff. Anything else (not
// authorized, topic name invalid, packet too large, payload format invalid...) will never
// succeed, and keeping the record would block the queue behind it forever: it is dropped,
// logged as an error and counted in fieldgate_upstream_refused_total.
import type { Logger } from '../observe/logger.js';
import type { Counter } from '../observe/metrics.js';

/** True: end the session and retry later. False: the record is dropped for good (logged, counted). */
export function refusalIsTransient(log: Logger, refused: Counter, seq: number, topic: string, reason: number): boolean {
  if (reason === 0x97) {
    log.warn({ seq, topic, reason }, 'upstream quota exceeded: reconnecting later');
    return true;
  }
  log.error({ seq, topic, reason }, 'upstream refused a record for good: dropped');
  refused.inc({ reason: `0x${reason.toString(16)}` });
  return false;
}
