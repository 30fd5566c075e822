import { describe, expect, it } from 'vitest';
import { TopicTree, type Match, type SharedMatch } from './topic-tree.js';
import { filterCovers, isValidTopicFilter, isValidTopicName, parseSharedFilter, topicMatches } from './topics.js';
import type { Subscription } from './types.js';

const sub = (filter: string, group?: string): Subscription => ({
  key: group ? `$share/${group}/${filter}` : filter, filter, qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0, ...(group ? { group } : {}),
});

function matchIds(tree: TopicTree, topic: string): string[] {
  const out: Match[] = [];
  const shared: SharedMatch[] = [];
  tree.match(topic, out, shared);
  return [...out.map((m) => `${m.clientId}:${m.sub.filter}`), ...shared.map((s) => `$share/${s.group}:${[...s.members.keys()].join(',')}`)].sort();
}

describe('topic filters', () => {
  it.each([
    ['a/b/c', 'a/b/c', true],
    ['a/+/c', 'a/b/c', true],
    ['a/+', 'a/b/c', false],
    ['a/#', 'a', true], // [MQTT-4.7.1-2]
    ['a/#', 'a/b/c', true],
    ['#', 'a/b', true],
    ['+/+', '/a', true],
    ['+', '/a', false],
    ['#', '$SYS/x', false], // [MQTT-4.7.2-1]
    ['+/x', '$SYS/x', false],
    ['$SYS/#', '$SYS/x', true],
    ['a/b', 'a/b/', false],
  ])('%s matches %s: %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
    const tree = new TopicTree();
    tree.add('c', sub(filter));
    expect(matchIds(tree, topic).length === 1).toBe(expected);
  });

  it('validates names and filters', () => {
    expect(isValidTopicName('a/b')).toBe(true);
    expect(isValidTopicName('a/+')).toBe(false);
    expect(isValidTopicName('a/#')).toBe(false);
    expect(isValidTopicName('')).toBe(false);
    expect(isValidTopicName('a\u0000b')).toBe(false);
    expect(isValidTopicFilter('a/#/b')).toBe(false);
    expect(isValidTopicFilter('a/b#')).toBe(false);
    expect(isValidTopicFilter('a+/b')).toBe(false);
    expect(isValidTopicFilter('+/+/#')).toBe(true);
    expect(parseSharedFilter('$share/g/a/+')).toEqual({ group: 'g', filter: 'a/+' });
    expect(parseSharedFilter('$share/g')).toBeNull();
    expect(parseSharedFilter('$share/g+/a')).toBeNull();
    expect(parseSharedFilter('a/b')).toBeUndefined();
  });

  it('decides whether an ACL filter covers a subscription filter', () => {
    expect(filterCovers('a/#', 'a/b/+')).toBe(true);
    expect(filterCovers('a/+', 'a/#')).toBe(false);
    expect(filterCovers('a/+', 'a/+')).toBe(true);
    expect(filterCovers('a/b', 'a/+')).toBe(false);
    expect(filterCovers('#', '#')).toBe(true);
  });
});

describe('TopicTree', () => {
  it('finds every overlapping subscription and share group, and prunes on remove', () => {
    const tree = new TopicTree();
    tree.add('x', sub('a/+/c'));
    tree.add('x', sub('a/#'));
    tree.add('y', sub('a/b/c'));
    tree.add('y', sub('a/b/c', 'g'));
    tree.add('z', sub('a/b/c', 'g'));
    expect(matchIds(tree, 'a/b/c')).toEqual(['$share/g:y,z', 'x:a/#', 'x:a/+/c', 'y:a/b/c']);
    expect(tree.size).toBe(5);
    for (const [c, s] of [['x', sub('a/+/c')], ['x', sub('a/#')], ['y', sub('a/b/c')], ['y', sub('a/b/c', 'g')], ['z', sub('a/b/c', 'g')]] as const) {
      expect(tree.remove(c, s)).toBe(true);
    }
    expect(tree.size).toBe(0);
    expect(matchIds(tree, 'a/b/c')).toEqual([]);
    expect(tree.remove('x', sub('a/#'))).toBe(false);
    // Pruned: nothing left under the root.
    expect((tree as unknown as { root: { children: Map<string, unknown> } }).root.children.size).toBe(0);
  });
});

describe('remembered matches (issue 15)', () => {
  const ids = (m: { matches: readonly Match[] }) => m.matches.map((x) => x.clientId).sort();

  it('follow every add and remove, and agree with a fresh walk', () => {
    const tree = new TopicTree();
    tree.add('a', sub('s/+'));
    expect(ids(tree.matchCached('s/1'))).toEqual(['a']);
    tree.add('b', sub('s/#'));
    expect(ids(tree.matchCached('s/1'))).toEqual(['a', 'b']);
    tree.remove('a', sub('s/+'));
    expect(ids(tree.matchCached('s/1'))).toEqual(['b']);
    tree.add('c', sub('s/1', 'g'));
    expect(tree.matchCached('s/1').shared.map((g) => g.group)).toEqual(['g']);
    expect(matchIds(tree, 's/1')).toEqual(['$share/g:c', 'b:s/#']);
  });

  it('stay bounded however many topics are published', () => {
    const tree = new TopicTree();
    tree.add('a', sub('#'));
    for (let i = 0; i < 10_000; i++) expect(tree.matchCached(`t/${i}`).matches.length).toBe(1);
    expect((tree as unknown as { recent: Map<string, unknown> }).recent.size).toBeLessThanOrEqual(256);
    expect(tree.matchCached(`long/${'x'.repeat(1000)}`).matches.length).toBe(1);
  });
});

