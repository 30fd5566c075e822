// The broker's own model of a message and a subscription, independent of the wire encoding
// so that sessions and retained messages can be persisted and replayed to 3.1.1 and 5 clients.
import type { QoS, UserProperties } from 'mqtt-packet';

export type { QoS };

/** MQTT 5 PUBLISH properties the broker passes through unaltered [MQTT-3.3.2-15..20]. */
export interface MessageProperties {
  payloadFormatIndicator?: boolean;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Buffer;
  userProperties?: UserProperties;
}

export interface Message {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  properties?: MessageProperties;
  /** Wall-clock ms after which the message is no longer delivered (Message Expiry Interval). */
  expiresAt?: number;
  /** Client id of the publisher, for No Local [MQTT-3.8.3-3]. */
  origin?: string;
}

export interface Subscription {
  /** The filter as the client sent it, `$share/...` included: the session's key. */
  key: string;
  /** The filter matched against topics (the part after `$share/group/`). */
  filter: string;
  group?: string;
  qos: QoS;
  noLocal: boolean;
  retainAsPublished: boolean;
  retainHandling: 0 | 1 | 2;
  subscriptionId?: number;
}

/** One message bound for one session, with what that session's subscriptions made of it. */
export interface Delivery {
  message: Message;
  qos: QoS;
  retain: boolean;
  subscriptionIds?: number[];
}

export function payloadBytes(d: Delivery): number {
  return d.message.payload.length + d.message.topic.length;
}
