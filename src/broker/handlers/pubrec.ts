// PUBREC -> PUBREL for an outgoing QoS 2 message [MQTT-4.3.3-4].
import type { IPubrecPacket } from 'mqtt-packet';
import type { Connection } from '../connection.js';
import { RC } from '../reason-codes.js';

export function handlePubrec(conn: Connection, packet: IPubrecPacket): void {
  const id = packet.messageId;
  const session = conn.session;
  if (id === undefined || session === undefined) return;
  // A PUBREC with an error reason ends the flow: no PUBREL follows (MQTT 5.0 §4.3.3).
  if (conn.isV5 && packet.reasonCode !== undefined && packet.reasonCode >= 0x80) {
    session.complete(id);
    return;
  }
  if (session.received(id)) {
    conn.write({ cmd: 'pubrel', messageId: id });
  } else {
    // Unknown id: tell the client so it can discard its state (MQTT 5.0 §3.6.2.1).
    conn.write(conn.isV5 ? { cmd: 'pubrel', messageId: id, reasonCode: RC.packetIdentifierNotFound } : { cmd: 'pubrel', messageId: id });
  }
}
