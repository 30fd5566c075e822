// UNSUBSCRIBE -> UNSUBACK (MQTT 5.0 §3.10, §3.11; MQTT 3.1.1 §3.10, §3.11).
import type { IUnsubscribePacket } from 'mqtt-packet';
import type { Connection } from '../connection.js';
import { RC } from '../reason-codes.js';

export function handleUnsubscribe(conn: Connection, packet: IUnsubscribePacket): void {
  const session = conn.session;
  if (session === undefined || packet.messageId === undefined) return;
  const granted = packet.unsubscriptions.map((key) => (conn.core.removeSubscription(session, key) ? RC.success : RC.noSubscriptionExisted));
  // One reason code per filter in MQTT 5 [MQTT-3.11.3-1]; mqtt-packet leaves them out for 3.1.1.
  conn.write({ cmd: 'unsuback', messageId: packet.messageId, granted });
}
