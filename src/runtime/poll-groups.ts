// Poll groups (issue 20): a slow energy total and a fast pressure on one PLC, one Sparkplug
// device. Tags with their own `pollInterval` form a group per interval; the others poll at the
// device's interval. Each group has its own fixed-rate loop and is read in one go.
import type { DeviceConfig } from '../config/sections/devices.js';

export interface PollGroup {
  interval: number;
  /** Tag names in config order. */
  tags: string[];
}

/**
 * The device's poll groups, fastest first; a single group is returned with `tags` undefined
 * so that a device without per-tag intervals polls exactly as before.
 */
export function pollGroups(device: DeviceConfig): Array<{ interval: number; tags: string[] | undefined }> {
  const byInterval = new Map<number, string[]>();
  for (const tag of device.tags) {
    const interval = (tag as { pollInterval?: number | undefined }).pollInterval ?? device.pollInterval;
    const list = byInterval.get(interval) ?? [];
    list.push(tag.name);
    byInterval.set(interval, list);
  }
  if (byInterval.size <= 1) return [{ interval: device.pollInterval, tags: undefined }];
  return [...byInterval].sort((a, b) => a[0] - b[0]).map(([interval, tags]) => ({ interval, tags }));
}
