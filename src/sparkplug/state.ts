// Primary host STATE (spec 3.0, 4.3.3): JSON {"online": bool, "timestamp": ms} on
// spBv1.0/STATE/<host id>, retained. A STATE older than the last one seen is stale and ignored
// [tck-id-operational-behavior-edge-node-birth-sequence-wait] (the edge's reading of 5.9).
import { parseJsonObject } from '../shared/json-object.js';
import { entryOf } from '../shared/map-entry.js';

export interface HostState {
  online: boolean;
  timestamp: number;
}

/** Parses a STATE payload; undefined when it is not a Sparkplug 3.0 STATE. */
export function parseState(payload: Buffer): HostState | undefined {
  const v = parseJsonObject(payload);
  if (v === undefined) return undefined;
  const { online, timestamp } = v;
  if (typeof online !== 'boolean' || typeof timestamp !== 'number' || !Number.isFinite(timestamp)) return undefined;
  return { online, timestamp };
}

/** Tracks the primary host: stale messages (older timestamp) change nothing. */
export class PrimaryHostTracker {
  private last: HostState | undefined;
  private fresh = false;

  /**
   * A new session on a list of servers (issue 17): the retained STATE that comes with it counts
   * again even when seen before, so an offline host there moves the edge to the next server.
   */
  newSession(): void {
    this.fresh = true;
  }

  /** Returns the new state when it counts, undefined when stale, repeated or malformed. */
  accept(payload: Buffer): HostState | undefined {
    const s = parseState(payload);
    if (s === undefined) return undefined;
    if (this.last !== undefined && s.timestamp < this.last.timestamp) return undefined;
    // The retained STATE comes again with every new session: acting on it twice would turn one
    // offline host into a reconnect loop.
    if (!this.fresh && this.last !== undefined && s.timestamp === this.last.timestamp && s.online === this.last.online) return undefined;
    this.fresh = false;
    this.last = s;
    return s;
  }

  get online(): boolean {
    return this.last?.online === true;
  }
}

/**
 * Issue 17: one tracker per upstream server. STATE is retained per server, and a timestamp seen
 * on one says nothing about another (a host online on B since before it went offline on A).
 */
export class PerServerHostState {
  private readonly trackers = new Map<number, PrimaryHostTracker>();

  of(server: number): PrimaryHostTracker {
    return entryOf(this.trackers, server, () => new PrimaryHostTracker());
  }

  /**
   * A new session on `server`. On a list of servers its retained STATE decides again (walk on
   * when offline); with one server a repeat is ignored, or an offline host would be a loop.
   */
  sessionUp(server: number, servers: number): void {
    if (servers > 1) this.of(server).newSession();
  }
}
