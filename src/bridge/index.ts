// What the rest of fieldgate uses from the bridge. The gateway builds it with
// `new Bridge({ outbox, ...bridgeOptionsFromConfig(config.upstream, config.site), logger, metrics })`;
// the Sparkplug layer adds a sender for its record kind, the Will (NDEATH) and `onConnect`.
export { Bridge, type BridgeOptions } from './bridge.js';
export { bridgeOptionsFromConfig, sessionFromConfig } from './from-config.js';
export { defaultSenders, sendAsIs, sendSparkplugEncoded, type RecordSender, type SendContext, type OutgoingMessage } from './sender.js';
export { DEDUP_USER_PROPERTY, SPARKPLUG_DEDUP_FIELD, appendSparkplugDedupField, extractDedupKey, formatDedupKey, parseDedupKey, readSparkplugDedupField, type DedupKey } from './dedup-key.js';
export { Deduper, type DeduperOptions } from './deduper.js';
export { Forwarder, CommandRouter, checkRules, type TopicRule, type LocalMessage, type Origin } from './forwarding.js';
export type { UpstreamSessionConfig } from './upstream-options.js';
