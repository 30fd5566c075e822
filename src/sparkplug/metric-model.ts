// How the runtime's tags become Sparkplug metrics: the datatype of the reported value, the
// engineering unit and quality as properties, and values converted to what the codec expects.
import type { DeviceConfig, TagConfig } from '../config/sections/devices.js';
import { reportedType } from '../runtime/scaling.js';
import type { Quality, TagValue } from '../runtime/types.js';
import { DataType, dataTypeOfTag, type DataTypeCode } from './datatypes.js';
import type { SpProperty, SpValue } from './payload.js';

/** Sparkplug quality codes (spec 6.4.9.1): the TCK accepts exactly 0, 192 and 500. */
export const QUALITY_CODE: Record<Quality, number> = {
  BAD: 0,
  GOOD: 192,
  // 500 is "stale" in the vendors' reading; it is the only non-good, non-bad code allowed.
  UNCERTAIN: 500,
};

export interface MetricDefinition {
  name: string;
  type: DataTypeCode;
  unit?: string | undefined;
  writable: boolean;
}

export function metricOfTag(tag: TagConfig): MetricDefinition {
  return { name: tag.name, type: dataTypeOfTag(reportedType(tag)), unit: tag.unit, writable: tag.writable };
}

export function metricsOfDevice(device: DeviceConfig): MetricDefinition[] {
  return device.tags.map(metricOfTag);
}

export function toSpValue(value: TagValue | null): SpValue | null {
  return value;
}

export function qualityProperty(q: Quality): SpProperty {
  return { type: DataType.Int32, value: QUALITY_CODE[q] };
}

/** Properties for a birth: quality always, the unit when configured, writability. */
export function birthProperties(def: MetricDefinition, quality: Quality): Record<string, SpProperty> {
  const props: Record<string, SpProperty> = { Quality: qualityProperty(quality) };
  if (def.unit !== undefined) props.engUnit = { type: DataType.String, value: def.unit };
  // Ignition and other hosts read `readOnly`; hosts that do not know it ignore it.
  props.readOnly = { type: DataType.Boolean, value: !def.writable };
  return props;
}
