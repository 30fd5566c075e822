// Topic name and topic filter rules (MQTT 5.0 §4.7, MQTT 3.1.1 §4.7), shared by the handlers,
// the topic tree, the retained store and the ACL.

/** Longest topic the broker accepts: a UTF-8 string is at most 65535 bytes [MQTT-1.5.4-1]. */
const MAX_TOPIC_BYTES = 65_535;

/** A topic name as carried by PUBLISH: no wildcards [MQTT-3.3.2-2], no U+0000 [MQTT-4.7.3-2]. */
export function isValidTopicName(topic: string): boolean {
  if (topic.length === 0 || Buffer.byteLength(topic) > MAX_TOPIC_BYTES) return false; // [MQTT-4.7.3-1]
  for (let i = 0; i < topic.length; i++) {
    const c = topic.charCodeAt(i);
    if (c === 0x2b /* + */ || c === 0x23 /* # */ || c === 0) return false;
  }
  return true;
}

/** A topic filter: `#` only as the whole last level [MQTT-4.7.1-2], `+` only as a whole level [MQTT-4.7.1-3]. */
export function isValidTopicFilter(filter: string): boolean {
  if (filter.length === 0 || Buffer.byteLength(filter) > MAX_TOPIC_BYTES) return false; // [MQTT-4.7.3-1]
  if (filter.includes('\u0000')) return false; // [MQTT-4.7.3-2]
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] as string;
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return false;
    if (level.includes('+') && level !== '+') return false;
  }
  return true;
}

export interface SharedFilter {
  group: string;
  filter: string;
}

/**
 * `$share/{ShareName}/{filter}` (MQTT 5.0 §4.8.2). Returns undefined for a plain filter and
 * null for a malformed shared one: the share name must be non-empty and hold no `/`, `+` or `#`
 * [MQTT-4.8.2-1], and a filter must follow [MQTT-4.8.2-2].
 */
export function parseSharedFilter(filter: string): SharedFilter | undefined | null {
  if (!filter.startsWith('$share/')) return undefined;
  const rest = filter.slice('$share/'.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return null;
  const group = rest.slice(0, slash);
  const inner = rest.slice(slash + 1);
  if (group.includes('+') || group.includes('#') || !isValidTopicFilter(inner)) return null;
  return { group, filter: inner };
}

/** Does `filter` match `topic`? (One matcher for the whole gateway: mqtt/topic-filter.ts.) */
export { topicMatches } from '../mqtt/topic-filter.js';

/**
 * Does ACL filter `outer` allow subscribing to filter `inner`? Every topic `inner` can match
 * must be matched by `outer`: `#` covers the rest, `+` covers one level but not `#`.
 */
export function filterCovers(outer: string, inner: string): boolean {
  const o = outer.split('/');
  const n = inner.split('/');
  for (let i = 0; i < o.length; i++) {
    const level = o[i];
    if (level === '#') return true;
    if (i >= n.length) return false;
    const sub = n[i];
    if (sub === '#') return false;
    if (level === '+') continue;
    if (level !== sub) return false;
  }
  return o.length === n.length;
}
