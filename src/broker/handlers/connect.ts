// CONNECT -> CONNACK (MQTT 5.0 §3.1, §3.2; MQTT 3.1.1 §3.1, §3.2).
import type { IConnackPacket, IConnectPacket } from 'mqtt-packet';
import type { CloseLogLevel, Connection, Will } from '../connection.js';
import { RC, v3ConnackCode } from '../reason-codes.js';
import { isValidTopicName } from '../topics.js';
import type { QoS } from '../types.js';

// Not `import`: node:crypto's ESM facade would read its webcrypto getters (issue 15, see websocket.ts).
// Only when a client asks for an assigned id: loading node:crypto costs ~4 MiB RSS (issue 15).
const randomBytes = (n: number): Buffer => process.getBuiltinModule('node:crypto').randomBytes(n);

const NEVER_EXPIRES = 0xffff_ffff;

export async function handleConnect(conn: Connection, packet: IConnectPacket): Promise<void> {
  const core = conn.core;
  if (conn.state !== 'new') {
    conn.protocolViolation(RC.protocolError, 'second CONNECT'); // [MQTT-3.1.0-2]
    return;
  }
  conn.protocolVersion = packet.protocolVersion ?? 4;
  const v5 = conn.isV5;
  const props = packet.properties ?? {};
  core.metrics.connects.inc();

  // Receive Maximum and Maximum Packet Size of 0 are protocol errors (MQTT 5.0 §3.1.2.11.3, §3.1.2.11.4).
  if (props.receiveMaximum === 0 || props.maximumPacketSize === 0) return refuse(conn, RC.protocolError, 'zero Receive Maximum or Maximum Packet Size');
  if (props.authenticationMethod !== undefined) return refuse(conn, RC.badAuthenticationMethod, 'enhanced authentication is not offered');

  let clientId = packet.clientId;
  let assigned = false;
  if (clientId.includes('\u0000')) return refuse(conn, RC.clientIdentifierNotValid, 'client id contains U+0000'); // [MQTT-1.5.4-2]
  if (clientId.length === 0) {
    // 3.1.1 allows an empty id only with Clean Session 1 [MQTT-3.1.3-7, MQTT-3.1.3-8]; 3.1 never.
    if (conn.protocolVersion === 3 || (conn.protocolVersion === 4 && packet.clean === false)) {
      return refuse(conn, RC.clientIdentifierNotValid, 'empty client id');
    }
    clientId = `fg-${randomBytes(9).toString('base64url')}`;
    assigned = true;
  }
  conn.clientId = clientId;

  // A source that keeps failing waits for its slot before its password is checked (login-guard.ts).
  const guessing = packet.username !== undefined && conn.info.certIdentity === undefined;
  if (guessing) {
    await core.loginGuard.admit(conn.remoteAddress);
    if (conn.isClosed()) return core.loginGuard.abandoned(conn.remoteAddress);
  }
  // Identity: a verified certificate's CN when the listener says so, else username/password.
  const identity = await core.auth.authenticate({
    username: packet.username,
    password: packet.password,
    certIdentity: conn.info.certIdentity,
    allowAnonymous: conn.info.allowAnonymous,
  });
  if (conn.isClosed()) {
    if (guessing) core.loginGuard.abandoned(conn.remoteAddress);
    return;
  }
  if (!identity.ok) {
    core.metrics.authFailures.inc();
    if (guessing) core.loginGuard.failed(conn.remoteAddress);
    return refuse(conn, identity.reason === 'not-authorized' ? RC.notAuthorized : RC.badUserNameOrPassword, 'not authorized');
  }
  conn.username = identity.username;
  if (guessing) core.loginGuard.succeeded(conn.remoteAddress);
  if (!core.mayUseClientId(clientId, identity.username)) {
    core.metrics.authFailures.inc();
    return refuse(conn, RC.notAuthorized, 'client id belongs to another user', 'warn');
  }

  if (core.connectedCount() >= core.limits.maxConnections && !core.hasLiveConnection(clientId)) {
    return refuse(conn, v5 ? RC.quotaExceeded : RC.serverUnavailable, 'too many connections', 'warn');
  }

  if (packet.will !== undefined) {
    const w = packet.will;
    if (!isValidTopicName(w.topic)) return refuse(conn, RC.topicNameInvalid, 'invalid will topic'); // [MQTT-3.1.3-11]
    const wp = w.properties ?? {};
    const payload = typeof w.payload === 'string' ? Buffer.from(w.payload) : w.payload;
    const message: Will['message'] = { topic: w.topic, payload: payload ?? Buffer.alloc(0), qos: (w.qos ?? 0) as QoS, retain: w.retain === true, origin: clientId };
    const passthrough = { ...wp };
    delete passthrough.willDelayInterval;
    delete passthrough.messageExpiryInterval;
    if (Object.keys(passthrough).length > 0) message.properties = passthrough;
    if (wp.messageExpiryInterval !== undefined) message.expiresAt = core.clock.now() + wp.messageExpiryInterval * 1000;
    conn.will = { message, delay: wp.willDelayInterval ?? 0 };
  }

  const clean = packet.clean !== false;
  let expiry: number;
  let expiryChanged = false;
  const maxExpiry = Math.floor(core.limits.maxSessionExpiry / 1000);
  if (v5) {
    expiry = props.sessionExpiryInterval ?? 0; // absent means 0 (MQTT 5.0 §3.1.2.11.2)
  } else {
    // 3.1.1 Clean Session 0 has no expiry of its own: the broker's bound applies.
    expiry = clean ? 0 : maxExpiry;
  }
  if (expiry > maxExpiry && expiry !== 0) {
    expiry = maxExpiry;
    expiryChanged = v5;
  }
  if (expiry === NEVER_EXPIRES && maxExpiry < NEVER_EXPIRES) expiry = maxExpiry;

  if (props.receiveMaximum !== undefined) conn.sendWindow = Math.min(props.receiveMaximum, core.limits.maxInflight);
  if (props.maximumPacketSize !== undefined) conn.clientMaxPacketSize = props.maximumPacketSize;

  let keepalive = packet.keepalive ?? 0;
  let serverKeepAlive: number | undefined;
  const maxKeepalive = Math.floor(core.limits.maxKeepalive / 1000);
  if (v5 && (keepalive === 0 || keepalive > maxKeepalive) && maxKeepalive < 65_535) {
    keepalive = maxKeepalive; // Server Keep Alive overrides the client's [MQTT-3.2.2-21]
    serverKeepAlive = maxKeepalive;
  }

  const { session, present } = core.attachSession(conn, clientId, clean, expiry);

  const connack: IConnackPacket = { cmd: 'connack', sessionPresent: present };
  if (v5) {
    connack.reasonCode = RC.success;
    const p: NonNullable<IConnackPacket['properties']> = {
      receiveMaximum: core.limits.maxInflight,
      maximumPacketSize: core.limits.maxPacketSize,
      topicAliasMaximum: core.limits.topicAliasMaximum,
      retainAvailable: true,
      wildcardSubscriptionAvailable: true,
      subscriptionIdentifiersAvailable: true,
      sharedSubscriptionAvailable: true,
    };
    if (assigned) p.assignedClientIdentifier = clientId; // [MQTT-3.2.2-16]
    if (serverKeepAlive !== undefined) p.serverKeepAlive = serverKeepAlive;
    if (expiryChanged) p.sessionExpiryInterval = expiry;
    connack.properties = p;
  } else {
    connack.returnCode = 0;
  }
  conn.state = 'connected';
  conn.info.onConnected?.();
  conn.write(connack);
  conn.startKeepalive(keepalive);
  core.logger.debug({ clientId, username: conn.username, remote: conn.remoteAddress, protocolVersion: conn.protocolVersion, clean, present }, 'client connected');
  // Unacknowledged messages are resent only after CONNACK [MQTT-4.4.0-1].
  session.resume(conn);
}

/** CONNACK with a failure code, then close [MQTT-3.2.2-5]; the session is not touched. */
function refuse(conn: Connection, reasonCode: number, reason: string, level: CloseLogLevel = 'debug'): void {
  const connack: IConnackPacket = conn.isV5
    ? { cmd: 'connack', sessionPresent: false, reasonCode, ...(conn.core.problemInfo(conn) ? { properties: { reasonString: reason } } : {}) }
    : { cmd: 'connack', sessionPresent: false, returnCode: v3ConnackCode(reasonCode) };
  conn.write(connack);
  conn.close(`CONNECT refused: ${reason}`, false, level, reasonCode);
}
