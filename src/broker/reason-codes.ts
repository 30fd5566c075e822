// MQTT 5 reason codes (OASIS MQTT 5.0 §2.4) and the MQTT 3.1.1 CONNACK return codes (§3.2.2.3)
// the broker sends. Named so handlers read as the spec does.
export const RC = {
  success: 0x00,
  grantedQos1: 0x01,
  grantedQos2: 0x02,
  disconnectWithWill: 0x04,
  noMatchingSubscribers: 0x10,
  noSubscriptionExisted: 0x11,
  unspecifiedError: 0x80,
  malformedPacket: 0x81,
  protocolError: 0x82,
  implementationSpecificError: 0x83,
  unsupportedProtocolVersion: 0x84,
  clientIdentifierNotValid: 0x85,
  badUserNameOrPassword: 0x86,
  notAuthorized: 0x87,
  serverUnavailable: 0x88,
  serverBusy: 0x89,
  badAuthenticationMethod: 0x8c,
  keepAliveTimeout: 0x8d,
  sessionTakenOver: 0x8e,
  topicFilterInvalid: 0x8f,
  topicNameInvalid: 0x90,
  packetIdentifierInUse: 0x91,
  packetIdentifierNotFound: 0x92,
  receiveMaximumExceeded: 0x93,
  topicAliasInvalid: 0x94,
  packetTooLarge: 0x95,
  messageRateTooHigh: 0x96,
  quotaExceeded: 0x97,
  serverShuttingDown: 0x8b,
  sharedSubscriptionsNotSupported: 0x9e,
  subscriptionIdentifiersNotSupported: 0xa1,
} as const;

/** MQTT 3.1.1 CONNACK return codes [MQTT-3.2.2-4..5]. */
export const V3_CONNACK = {
  accepted: 0,
  unacceptableProtocolVersion: 1,
  identifierRejected: 2,
  serverUnavailable: 3,
  badUserNameOrPassword: 4,
  notAuthorized: 5,
} as const;

/** The closest MQTT 3.1.1 return code for an MQTT 5 CONNACK reason code. */
export function v3ConnackCode(reason: number): number {
  switch (reason) {
    case RC.success:
      return V3_CONNACK.accepted;
    case RC.unsupportedProtocolVersion:
      return V3_CONNACK.unacceptableProtocolVersion;
    case RC.clientIdentifierNotValid:
      return V3_CONNACK.identifierRejected;
    case RC.badUserNameOrPassword:
      return V3_CONNACK.badUserNameOrPassword;
    case RC.notAuthorized:
      return V3_CONNACK.notAuthorized;
    default:
      return V3_CONNACK.serverUnavailable;
  }
}
