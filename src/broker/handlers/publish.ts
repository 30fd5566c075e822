// PUBLISH from a client (MQTT 5.0 §3.3, §4.3; MQTT 3.1.1 §3.3).
import type { IPublishPacket } from 'mqtt-packet';
import type { Connection } from '../connection.js';
import { RC } from '../reason-codes.js';
import { isValidTopicName } from '../topics.js';
import type { Message } from '../types.js';

export function handlePublish(conn: Connection, packet: IPublishPacket): void {
  const core = conn.core;
  const session = conn.session;
  if (session === undefined) return;
  const props = packet.properties;
  let topic = packet.topic;

  if (conn.isV5 && props !== undefined) {
    // A client never sends Subscription Identifiers [MQTT-3.3.4-6].
    if (props.subscriptionIdentifier !== undefined) return conn.protocolViolation(RC.protocolError, 'PUBLISH with a Subscription Identifier');
    const alias = props.topicAlias;
    if (alias !== undefined) {
      // 0 and anything above our Topic Alias Maximum are errors [MQTT-3.3.2-8, MQTT-3.3.2-9].
      if (alias === 0 || alias > core.limits.topicAliasMaximum) return conn.protocolViolation(RC.topicAliasInvalid, `topic alias ${alias} out of range`);
      if (topic.length === 0) {
        const known = conn.topicAliases.get(alias);
        if (known === undefined) return conn.protocolViolation(RC.protocolError, `unknown topic alias ${alias}`);
        topic = known;
      } else if (isValidTopicName(topic)) {
        conn.topicAliases.set(alias, topic); // [MQTT-3.3.2-12]
      }
    }
  }
  // No wildcards, no U+0000, not empty [MQTT-3.3.2-2, MQTT-4.7.3-1, MQTT-4.7.3-2].
  if (!isValidTopicName(topic)) return conn.protocolViolation(RC.topicNameInvalid, 'invalid topic name');

  const qos = packet.qos;
  const id = packet.messageId;
  if (qos > 0 && (id === undefined || id === 0)) return conn.protocolViolation(RC.protocolError, 'QoS > 0 without a packet identifier'); // [MQTT-2.2.1-3]

  // Incoming Receive Maximum: QoS 2 flows not yet released [MQTT-3.3.4-9]. A 3.1.1 client was
  // never told a limit (3.1.1 has none), so it is slowed instead: its socket is not read for a
  // moment; the packet id space still bounds what it can hold open (issue 12 item 5).
  if (qos === 2 && id !== undefined && !session.incomingQos2.has(id) && session.incomingQos2.size >= core.limits.maxInflight) {
    if (conn.isV5) return conn.protocolViolation(RC.receiveMaximumExceeded, 'Receive Maximum exceeded');
    conn.pauseFor(1);
  }

  conn.throttlePublish();
  conn.countPublishIn();

  // `$SYS/` belongs to the broker; other `$` topics are the site's to use.
  const allowed = !topic.startsWith('$SYS/') && core.acl.canPublish(conn.username, conn.clientId, topic);
  if (!allowed) {
    core.metrics.dropped.inc({ reason: 'acl' });
    core.logger.debug({ clientId: conn.clientId, username: conn.username, topic }, 'PUBLISH denied by ACL');
    // 3.1.1: acknowledged and dropped (MQTT 3.1.1 §3.3.5); 5.0: 0x87 Not authorized.
    ack(conn, qos, id, RC.notAuthorized);
    if (qos === 2 && id !== undefined && !conn.isV5) session.incomingQos2.add(id);
    return;
  }

  if (qos === 2 && id !== undefined) {
    // A resent QoS 2 PUBLISH (DUP) before PUBREL is acknowledged but not delivered again [MQTT-4.3.3-10].
    if (session.incomingQos2.has(id)) {
      conn.write({ cmd: 'pubrec', messageId: id });
      return;
    }
    session.incomingQos2.add(id);
  }

  const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
  const message: Message = { topic, payload, qos, retain: packet.retain, origin: conn.clientId };
  if (conn.isV5 && props !== undefined) {
    const passthrough: Message['properties'] = {};
    let any = false;
    if (props.payloadFormatIndicator !== undefined) { passthrough.payloadFormatIndicator = props.payloadFormatIndicator; any = true; }
    if (props.contentType !== undefined) { passthrough.contentType = props.contentType; any = true; }
    if (props.responseTopic !== undefined) {
      if (!isValidTopicName(props.responseTopic)) return conn.protocolViolation(RC.protocolError, 'Response Topic must be a topic name'); // [MQTT-3.3.2-14]
      passthrough.responseTopic = props.responseTopic;
      any = true;
    }
    if (props.correlationData !== undefined) { passthrough.correlationData = props.correlationData; any = true; }
    if (props.userProperties !== undefined) { passthrough.userProperties = props.userProperties; any = true; }
    if (any) message.properties = passthrough;
    if (props.messageExpiryInterval !== undefined) message.expiresAt = core.clock.now() + props.messageExpiryInterval * 1000;
  }

  core.congested.length = 0;
  const delivered = core.route(message);
  ack(conn, qos, id, delivered === 0 && conn.isV5 ? RC.noMatchingSubscribers : RC.success);
  if (core.congested.length > 0) {
    conn.waitForSubscribers(core.congested);
    core.congested.length = 0;
  }
}

function ack(conn: Connection, qos: number, id: number | undefined, reasonCode: number): void {
  if (qos === 0 || id === undefined) return;
  if (conn.isV5 && reasonCode !== RC.success) conn.write({ cmd: qos === 1 ? 'puback' : 'pubrec', messageId: id, reasonCode });
  else conn.ackPublish(qos as 1 | 2, id);
}
