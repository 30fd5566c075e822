// Topic access per user or for everyone, with %u (username) and %c (client id) substitution.
// Deny by default once any rule is configured (issue 3).
import type { BrokerAclRule } from '../config/sections/broker.js';
import { filterCovers, topicMatches } from './topics.js';

const WILDCARD_OR_SEPARATOR = /[+#/]/;

export class Acl {
  constructor(private rules: readonly BrokerAclRule[]) {}

  /** Reload (issue 20): new rules for every check from now on; granted subscriptions stay. */
  replace(rules: readonly BrokerAclRule[]): void {
    this.rules = rules;
  }

  get enabled(): boolean {
    return this.rules.length > 0;
  }

  canPublish(username: string | undefined, clientId: string, topic: string): boolean {
    if (!this.enabled) return true;
    return this.rules.some((r) => r.access !== 'read' && this.applies(r, username) && matchPattern(r.topic, username, clientId, (f) => topicMatches(f, topic)));
  }

  canSubscribe(username: string | undefined, clientId: string, filter: string): boolean {
    if (!this.enabled) return true;
    return this.rules.some((r) => r.access !== 'write' && this.applies(r, username) && matchPattern(r.topic, username, clientId, (f) => filterCovers(f, filter)));
  }

  private applies(rule: BrokerAclRule, username: string | undefined): boolean {
    return rule.user === undefined || rule.user === username;
  }
}

function matchPattern(pattern: string, username: string | undefined, clientId: string, test: (filter: string) => boolean): boolean {
  let filter = pattern;
  if (filter.includes('%u')) {
    // A username like `a/#` must not widen a `%u` rule into someone else's topics.
    if (username === undefined || WILDCARD_OR_SEPARATOR.test(username)) return false;
    filter = filter.replaceAll('%u', username);
  }
  if (filter.includes('%c')) {
    if (WILDCARD_OR_SEPARATOR.test(clientId)) return false;
    filter = filter.replaceAll('%c', clientId);
  }
  return test(filter);
}
