// Subscription index: a trie over topic levels. Matching a topic costs one walk over its levels
// plus the `+`/`#` branches, independent of how many subscriptions exist elsewhere.
import type { Subscription } from './types.js';

class TrieNode {
  readonly children = new Map<string, TrieNode>();
  /** clientId -> subscription; a client holds at most one subscription per filter [MQTT-3.8.4-3]. */
  readonly subs = new Map<string, Subscription>();
  /** share group -> (clientId -> subscription). */
  shared: Map<string, Map<string, Subscription>> | undefined;

  isEmpty(): boolean {
    return this.children.size === 0 && this.subs.size === 0 && (this.shared === undefined || this.shared.size === 0);
  }
}

export interface Match {
  clientId: string;
  sub: Subscription;
}

export interface SharedMatch {
  group: string;
  filter: string;
  members: Map<string, Subscription>;
}

/** What a topic matches: read-only, it may be shared by later routes of the same topic. */
export interface Matched {
  readonly matches: readonly Match[];
  readonly shared: readonly SharedMatch[];
}

/** Topics whose matches are remembered: bounded in count and in topic length. */
const RECENT_TOPICS = 256;
const RECENT_TOPIC_CHARS = 256;

export class TopicTree {
  private readonly root = new TrieNode();
  private count = 0;
  /**
   * Matches of recently routed topics, forgotten at the next add or remove. A gateway's
   * publishers repeat their topics, and the walk's level strings, filter prefixes and Match
   * objects per message were garbage that V8 promoted under a flood (issue 15).
   */
  private readonly recent = new Map<string, Matched>();

  get size(): number {
    return this.count;
  }

  add(clientId: string, sub: Subscription): void {
    this.recent.clear();
    let node = this.root;
    for (const level of sub.filter.split('/')) {
      let next = node.children.get(level);
      if (next === undefined) {
        next = new TrieNode();
        node.children.set(level, next);
      }
      node = next;
    }
    const map = this.bucket(node, sub.group, true) as Map<string, Subscription>;
    if (!map.has(clientId)) this.count++;
    map.set(clientId, sub);
  }

  remove(clientId: string, sub: Pick<Subscription, 'filter' | 'group'>): boolean {
    this.recent.clear();
    const path: TrieNode[] = [this.root];
    const levels = sub.filter.split('/');
    let node = this.root;
    for (const level of levels) {
      const next = node.children.get(level);
      if (next === undefined) return false;
      path.push(next);
      node = next;
    }
    const map = this.bucket(node, sub.group, false);
    if (map === undefined || !map.delete(clientId)) return false;
    this.count--;
    if (sub.group !== undefined && map.size === 0) node.shared?.delete(sub.group);
    // Prune empty branches so a churn of unique filters does not grow the trie forever.
    for (let i = levels.length; i > 0; i--) {
      const child = path[i] as TrieNode;
      if (!child.isEmpty()) break;
      (path[i - 1] as TrieNode).children.delete(levels[i - 1] as string);
    }
    return true;
  }

  /** match(), remembered for the topic until the subscriptions change. */
  matchCached(topic: string): Matched {
    let hit = this.recent.get(topic);
    if (hit !== undefined) return hit;
    const matches: Match[] = [];
    const shared: SharedMatch[] = [];
    this.match(topic, matches, shared);
    hit = { matches, shared };
    if (topic.length <= RECENT_TOPIC_CHARS) {
      if (this.recent.size >= RECENT_TOPICS) this.recent.clear();
      this.recent.set(topic, hit);
    }
    return hit;
  }

  /** Every non-shared subscription matching `topic`, and every share group that does. */
  match(topic: string, out: Match[], shared: SharedMatch[]): void {
    const levels = topic.split('/');
    // `$`-topics are not matched by a leading `+` or `#` [MQTT-4.7.2-1].
    this.walk(this.root, levels, 0, topic.startsWith('$'), out, shared, '');
  }

  private walk(node: TrieNode, levels: string[], i: number, dollar: boolean, out: Match[], shared: SharedMatch[], prefix: string): void {
    const wildcardsAllowed = !(dollar && i === 0);
    if (wildcardsAllowed) {
      const hash = node.children.get('#');
      // `a/#` matches `a` and everything below it [MQTT-4.7.1-2].
      if (hash !== undefined) this.collect(hash, out, shared, prefix === '' ? '#' : `${prefix}/#`);
    }
    if (i === levels.length) {
      this.collect(node, out, shared, prefix);
      return;
    }
    const level = levels[i] as string;
    const exact = node.children.get(level);
    if (exact !== undefined) this.walk(exact, levels, i + 1, dollar, out, shared, i === 0 ? level : `${prefix}/${level}`);
    if (wildcardsAllowed) {
      const plus = node.children.get('+');
      if (plus !== undefined) this.walk(plus, levels, i + 1, dollar, out, shared, i === 0 ? '+' : `${prefix}/+`);
    }
  }

  private collect(node: TrieNode, out: Match[], shared: SharedMatch[], filter: string): void {
    for (const [clientId, sub] of node.subs) out.push({ clientId, sub });
    if (node.shared !== undefined) {
      for (const [group, members] of node.shared) shared.push({ group, filter, members });
    }
  }

  private bucket(node: TrieNode, group: string | undefined, create: boolean): Map<string, Subscription> | undefined {
    if (group === undefined) return node.subs;
    if (node.shared === undefined) {
      if (!create) return undefined;
      node.shared = new Map();
    }
    let map = node.shared.get(group);
    if (map === undefined && create) {
      map = new Map();
      node.shared.set(group, map);
    }
    return map;
  }
}
