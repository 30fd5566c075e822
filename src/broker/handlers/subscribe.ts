// SUBSCRIBE -> SUBACK, then retained messages (MQTT 5.0 §3.8, §3.9; MQTT 3.1.1 §3.8, §3.9).
import type { ISubscribePacket } from 'mqtt-packet';
import type { Connection } from '../connection.js';
import { RC } from '../reason-codes.js';
import { isValidTopicFilter, parseSharedFilter } from '../topics.js';
import type { QoS, Subscription } from '../types.js';

const MAX_SUBSCRIPTION_ID = 268_435_455;

export function handleSubscribe(conn: Connection, packet: ISubscribePacket): void {
  const core = conn.core;
  const session = conn.session;
  if (session === undefined || packet.messageId === undefined) return;
  const subId = conn.isV5 ? packet.properties?.subscriptionIdentifier : undefined;
  if (subId !== undefined && (subId < 1 || subId > MAX_SUBSCRIPTION_ID)) {
    return conn.protocolViolation(RC.protocolError, 'Subscription Identifier out of range'); // MQTT 5.0 §3.8.2.1.2
  }
  const failure = conn.isV5 ? RC.topicFilterInvalid : 0x80;
  const denied = conn.isV5 ? RC.notAuthorized : 0x80;
  const granted: number[] = [];
  const retainedFor: Subscription[] = [];

  for (const s of packet.subscriptions) {
    const shared = parseSharedFilter(s.topic);
    if (shared === null || (shared === undefined && !isValidTopicFilter(s.topic))) {
      granted.push(failure);
      continue;
    }
    // No Local on a shared subscription is a protocol error [MQTT-3.8.3-4].
    if (shared !== undefined && s.nl === true) return conn.protocolViolation(RC.protocolError, 'No Local on a shared subscription');
    const filter = shared?.filter ?? s.topic;
    if (!core.acl.canSubscribe(conn.username, conn.clientId, filter)) {
      core.logger.debug({ clientId: conn.clientId, username: conn.username, filter: s.topic }, 'SUBSCRIBE denied by ACL');
      granted.push(denied);
      continue;
    }
    const sub: Subscription = {
      key: s.topic,
      filter,
      qos: s.qos as QoS,
      noLocal: s.nl === true,
      retainAsPublished: s.rap === true,
      retainHandling: (s.rh ?? 0) as 0 | 1 | 2,
    };
    if (shared !== undefined) sub.group = shared.group;
    if (subId !== undefined) sub.subscriptionId = subId;
    const existed = core.addSubscription(session, sub); // replaces an identical filter [MQTT-3.8.4-3]
    granted.push(sub.qos); // the broker supports QoS 2, so the request is granted as asked [MQTT-3.8.4-6]
    // Retain Handling 0: send retained; 1: only for a new subscription; 2: never [MQTT-3.3.1-9..11].
    // Shared subscriptions get no retained messages (MQTT 5.0 §4.8.2).
    if (shared === undefined && (sub.retainHandling === 0 || (sub.retainHandling === 1 && !existed))) retainedFor.push(sub);
  }

  conn.write({ cmd: 'suback', messageId: packet.messageId, granted });
  for (const sub of retainedFor) core.sendRetained(session, sub);
}
