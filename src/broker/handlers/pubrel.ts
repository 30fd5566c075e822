// PUBREL -> PUBCOMP for an incoming QoS 2 message; the id may be reused afterwards [MQTT-4.3.3-9].
import type { IPubrelPacket } from 'mqtt-packet';
import type { Connection } from '../connection.js';
import { RC } from '../reason-codes.js';

export function handlePubrel(conn: Connection, packet: IPubrelPacket): void {
  const id = packet.messageId;
  const session = conn.session;
  if (id === undefined || session === undefined) return;
  const known = session.incomingQos2.delete(id);
  // Still answered when unknown: the client may be retrying after we already completed [MQTT-4.3.3-11].
  conn.write(conn.isV5 && !known ? { cmd: 'pubcomp', messageId: id, reasonCode: RC.packetIdentifierNotFound } : { cmd: 'pubcomp', messageId: id });
}
