// One table from packet type to handler, in the aedes style. A handler returns a promise only
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

type Handlers = { [K in Packet['cmd']]?: (conn: Connection, packet: Extract<Packet, { cmd: K }>) => void };

/** Packets a connected client may send, each to its handler (CONNECT is handled before). */
const HANDLERS: Handlers = {
  publish: handlePublish,
  puback: handlePuback,
  pubrec: handlePubrec,
  pubrel: handlePubrel,
  pubcomp: handlePubcomp,
  subscribe: handleSubscribe,
  unsubscribe: handleUnsubscribe,
  pingreq: handlePingreq,
  disconnect: handleDisconnect,
};

export function dispatch(conn: Connection, packet: Packet): Promise<void> | undefined {
  if (packet.cmd === 'connect') return handleConnect(conn, packet);
  // Nothing but CONNECT before CONNACK [MQTT-3.1.0-1]; a second CONNECT is a protocol error [MQTT-3.1.0-2].
  if (conn.state !== 'connected') {
    conn.close(`${packet.cmd} before CONNECT completed`, false, 'warn');
    return undefined;
  }
  const handler = HANDLERS[packet.cmd] as ((conn: Connection, packet: Packet) => void) | undefined;
  if (handler !== undefined) handler(conn, packet);
  // No enhanced authentication is offered, so AUTH is never expected (MQTT 5.0 §4.12).
  else if (packet.cmd === 'auth') conn.protocolViolation(RC.protocolError, 'AUTH without an authentication method');
  // CONNACK, SUBACK, UNSUBACK, PINGRESP are server-to-client only.
  else conn.protocolViolation(RC.protocolError, `unexpected ${packet.cmd} from a client`);
  return undefined;
}
