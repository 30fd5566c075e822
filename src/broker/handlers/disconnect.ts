// DISCONNECT from the client (MQTT 5.0 §3.14, MQTT 3.1.1 §3.14).
import type { IDisconnectPacket } from 'mqtt-packet';
import type { Connection } from '../connection.js';
import { RC } from '../reason-codes.js';

export function handleDisconnect(conn: Connection, packet: IDisconnectPacket): void {
  const session = conn.session;
  const newExpiry = packet.properties?.sessionExpiryInterval;
  if (conn.isV5 && newExpiry !== undefined && session !== undefined) {
    // A session that was to end with the connection cannot be revived here [MQTT-3.14.2-2].
    if (session.expiryInterval === 0 && newExpiry !== 0) {
      conn.protocolViolation(RC.protocolError, 'Session Expiry Interval set in DISCONNECT after 0 in CONNECT');
      return;
    }
    session.expiryInterval = Math.min(newExpiry, Math.floor(conn.core.limits.maxSessionExpiry / 1000));
  }
  // A normal DISCONNECT discards the will [MQTT-3.14.4-3], unless MQTT 5 reason 0x04 asks for it.
  if (!(conn.isV5 && packet.reasonCode === RC.disconnectWithWill)) conn.will = undefined;
  conn.close('client sent DISCONNECT', true);
}
