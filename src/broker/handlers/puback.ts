// PUBACK (QoS 1) and PUBCOMP (QoS 2) end an outgoing flow and free a place in the window
// (MQTT 5.0 §4.3.2, §4.3.3, §4.9).
import type { IPubackPacket, IPubcompPacket } from 'mqtt-packet';
import type { Connection } from '../connection.js';

export function handlePuback(conn: Connection, packet: IPubackPacket): void {
  // An unknown id (a late ack after a session reset) is ignored rather than fatal.
  if (packet.messageId !== undefined) conn.session?.complete(packet.messageId);
}

export function handlePubcomp(conn: Connection, packet: IPubcompPacket): void {
  if (packet.messageId !== undefined) conn.session?.complete(packet.messageId);
}
