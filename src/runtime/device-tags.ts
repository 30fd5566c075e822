// One device's tags: readings in, tag updates out. The supervisor (device-supervisor.ts) decides
// when the device is read and whether it is online; this module decides what each reading does
// to its tag (issue 16: the connection lifecycle and the tag model are two jobs).
import type { DeviceConfig } from '../config/sections/devices.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import { TagState } from './tag-state.js';
import type { DeviceSnapshot, Reading, TagUpdate } from './types.js';

export class DeviceTags {
  private readonly tags = new Map<string, TagState>();

  constructor(
    device: DeviceConfig,
    private readonly log: Logger,
  ) {
    for (const tag of device.tags) {
      this.tags.set(tag.name, new TagState(device.name, tag, tag.maxSilence ?? device.maxSilence));
    }
  }

  get size(): number {
    return this.tags.size;
  }

  get(name: string): TagState | undefined {
    return this.tags.get(name);
  }

  has(name: string): boolean {
    return this.tags.has(name);
  }

  all(): TagState[] {
    return [...this.tags.values()];
  }

  snapshot(): DeviceSnapshot['tags'] {
    return this.all().map((t) => ({ name: t.config.name, ...t.current() }));
  }

  /** `group`: the tag names of one poll group (issue 20), or undefined for every tag. */
  collect(readings: Reading[], now: number, group?: readonly string[]): Array<TagUpdate | undefined> {
    const inGroup = group === undefined ? undefined : new Set(group);
    const seen = new Set<string>();
    const updates: Array<TagUpdate | undefined> = [];
    for (const r of readings) {
      const tag = this.tags.get(r.tag);
      // A driver that cannot read a subset answers for every tag: keep each group's pace.
      if (tag === undefined || (inGroup !== undefined && !inGroup.has(r.tag))) continue;
      seen.add(r.tag);
      updates.push(this.acceptContained(tag, r, now));
    }
    for (const tag of this.group(group)) if (!seen.has(tag.config.name)) updates.push(tag.heartbeat(now));
    return updates;
  }

  group(group?: readonly string[]): TagState[] {
    if (group === undefined) return this.all();
    return group.map((n) => this.tags.get(n)).filter((t): t is TagState => t !== undefined);
  }

  /** A value the tag model cannot take (scaling, conversion) makes that one tag BAD (issue 12). */
  private acceptContained(tag: TagState, r: Reading, now: number): TagUpdate | undefined {
    try {
      return tag.accept(r, now);
    } catch (e) {
      this.log.error({ code: 'FG_ERR_TAG_VALUE', tag: tag.config.name, err: errorMessage(e) }, 'tag value rejected: tag is BAD');
      return tag.fail(now, `FG_ERR_TAG_VALUE: ${errorMessage(e)}`);
    }
  }
}
