// MQTT topic filter matching [MQTT-4.7]: `+` one level, `#` the rest (including the parent).
// Pure and dependency-free: the broker's topic tree, retained store and ACLs, the bridge's
// forwarding rules and the config checks all use this one matcher.

export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  // Topics starting with `$` do not match filters starting with a wildcard [MQTT-4.7.2-1].
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return true;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/** The literal levels before the first wildcard, with a trailing `/` when any: `a/b/#` -> `a/b/`. */
export function fixedPrefix(filter: string): string {
  const levels = filter.split('/');
  const i = levels.findIndex((l) => l === '+' || l === '#');
  if (i === -1) return filter;
  return levels.slice(0, i).map((l) => l + '/').join('');
}

/** Rewrites `topic` (matched by `filter`) by replacing the filter's fixed prefix with `to`. */
export function mapTopic(filter: string, to: string | undefined, topic: string): string {
  if (to === undefined) return topic;
  const prefix = fixedPrefix(filter);
  if (prefix === filter) return to; // an exact filter maps to exactly `to`
  const rest = topic.slice(prefix.length);
  if (to === '') return rest;
  return to.endsWith('/') ? to + rest : `${to}/${rest}`;
}

/** True when some topic matches both filters. */
export function filtersOverlap(a: string, b: string): boolean {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const p = x[i];
    const q = y[i];
    if (p === '#' || q === '#') return true;
    if (p === undefined || q === undefined) return false;
    if (p !== '+' && q !== '+' && p !== q) return false;
  }
  return true;
}
