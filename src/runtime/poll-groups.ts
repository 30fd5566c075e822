// Poll groups (issue 20): a slow energy total and a fast pressure on one PLC, one Sparkplug
// device. Tags with their own `pollInterval` form a group per interval; the others poll at the
// device's interval. Each group has its own fixed-rate loop and is read in one go.
import type { DeviceConfig } from '../config/sections/devices.js';

/**
 * The device's poll groups, fastest first, each with its tag names in config order; a single
 * group comes back with `tags` undefined, so a device without per-tag intervals polls as before.
 */
export function pollGroups(device: DeviceConfig): Array<{ interval: number; tags: string[] | undefined }> {
  const byInterval = new Map<number, string[]>();
  for (const tag of device.tags) {
    const interval = tag.pollInterval ?? device.pollInterval;
    const list = byInterval.get(interval) ?? [];
    list.push(tag.name);
    byInterval.set(interval, list);
  }
  if (byInterval.size <= 1) return [{ interval: device.pollInterval, tags: undefined }];
  return [...byInterval].sort((a, b) => a[0] - b[0]).map(([interval, tags]) => ({ interval, tags }));
}
