// PINGREQ -> PINGRESP [MQTT-3.12.4-1]. Keep alive was already refreshed when the bytes arrived.
import type { Connection } from '../connection.js';

export function handlePingreq(conn: Connection): void {
  conn.write({ cmd: 'pingresp' });
}
