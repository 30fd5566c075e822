// Rebirth requests (issue 14, item 2): a seq gap, an unknown alias or data before a birth
// means the host's model of that node cannot be trusted; one NCMD `Node Control/Rebirth`
// [tck-id-operational-behavior-edge-node-... rebirth] fixes it. Rate-limited per node: every
// message of a broken stream would otherwise ask again until the NBIRTH arrives.
import { encodePayload } from '../sparkplug/payload.js';
import { DataType } from '../sparkplug/datatypes.js';
import type { RebirthReason } from './lifecycle.js';

export class RebirthLimiter {
  private readonly last = new Map<string, number>();
  suppressed = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly send: (topic: string, payload: Buffer) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when an NCMD was sent now. */
  request(group: string, node: string, _reason: RebirthReason): boolean {
    const key = `${group}/${node}`;
    const t = this.now();
    const prev = this.last.get(key);
    if (prev !== undefined && t - prev < this.intervalMs) {
      this.suppressed += 1;
      return false;
    }
    this.last.set(key, t);
    const payload = encodePayload({ timestamp: t, metrics: [{ name: 'Node Control/Rebirth', type: DataType.Boolean, value: true }] });
    this.send(`spBv1.0/${group}/NCMD/${node}`, Buffer.from(payload));
    return true;
  }
}
