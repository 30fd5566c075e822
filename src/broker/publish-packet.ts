// Builds the outgoing PUBLISH for one delivery. MQTT 5 properties pass through unaltered
// [MQTT-3.3.2-15..20]; the Message Expiry Interval becomes what is left of it [MQTT-3.3.2-6];
// the Subscription Identifiers of every matching subscription are attached [MQTT-3.3.4-3].
import type { IPublishPacket } from 'mqtt-packet';
import type { Delivery } from './types.js';

export function toPublishPacket(d: Delivery, packetId: number | undefined, dup: boolean, v5: boolean, now: number): IPublishPacket {
  const m = d.message;
  const packet: IPublishPacket = { cmd: 'publish', topic: m.topic, payload: m.payload, qos: d.qos, retain: d.retain, dup };
  if (packetId !== undefined) packet.messageId = packetId;
  if (!v5) return packet;
  const props: NonNullable<IPublishPacket['properties']> = {};
  let any = false;
  if (m.properties !== undefined) {
    Object.assign(props, m.properties);
    any = true;
  }
  if (m.expiresAt !== undefined) {
    props.messageExpiryInterval = Math.max(1, Math.ceil((m.expiresAt - now) / 1000));
    any = true;
  }
  if (d.subscriptionIds !== undefined && d.subscriptionIds.length > 0) {
    props.subscriptionIdentifier = d.subscriptionIds.length === 1 ? (d.subscriptionIds[0] as number) : d.subscriptionIds;
    any = true;
  }
  if (any) packet.properties = props;
  return packet;
}
