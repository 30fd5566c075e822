// One switch from packet type to handler, in the aedes style. A handler returns a promise only
// when it must wait (the password check); the connection holds later packets until it settles.
import type { Packet } from 'mqtt-packet';
import type { Connection } from './connection.js';
import { handleConnect } from './handlers/connect.js';
import { handleDisconnect } from './handlers/disconnect.js';
import { handlePingreq } from './handlers/pingreq.js';
import { handlePuback, handlePubcomp } from './handlers/puback.js';
import { handlePublish } from './handlers/publish.js';
import { handlePubrec } from './handlers/pubrec.js';
import { handlePubrel } from './handlers/pubrel.js';
import { handleSubscribe } from './handlers/subscribe.js';
import { handleUnsubscribe } from './handlers/unsubscribe.js';
import { RC } from './reason-codes.js';

export function dispatch(conn: Connection, packet: Packet): Promise<void> | undefined {
  if (packet.cmd === 'connect') return handleConnect(conn, packet);
  // Nothing but CONNECT before CONNACK [MQTT-3.1.0-1]; a second CONNECT is a protocol error [MQTT-3.1.0-2].
  if (conn.state !== 'connected') {
    conn.close(`${packet.cmd} before CONNECT completed`, false, 'warn');
    return undefined;
  }
  switch (packet.cmd) {
    case 'publish':
      handlePublish(conn, packet);
      break;
    case 'puback':
      handlePuback(conn, packet);
      break;
    case 'pubrec':
      handlePubrec(conn, packet);
      break;
    case 'pubrel':
      handlePubrel(conn, packet);
      break;
    case 'pubcomp':
      handlePubcomp(conn, packet);
      break;
    case 'subscribe':
      handleSubscribe(conn, packet);
      break;
    case 'unsubscribe':
      handleUnsubscribe(conn, packet);
      break;
    case 'pingreq':
      handlePingreq(conn);
      break;
    case 'disconnect':
      handleDisconnect(conn, packet);
      break;
    case 'auth':
      // No enhanced authentication is offered, so AUTH is never expected (MQTT 5.0 §4.12).
      conn.protocolViolation(RC.protocolError, 'AUTH without an authentication method');
      break;
    default:
      // CONNACK, SUBACK, UNSUBACK, PINGRESP are server-to-client only.
      conn.protocolViolation(RC.protocolError, `unexpected ${packet.cmd} from a client`);
  }
  return undefined;
}
