// The whole site file, assembled from one schema per section plus one device variant per
// registered driver. This is the single source of truth: the TypeScript types, the defaults,
// `fieldgate schema` (JSON Schema) and the validation errors all come from here.
import { z } from 'zod';
import type { DriverSchema } from './driver-schema.js';
import { siteSchema, type SiteConfig } from './sections/site.js';
import { observeSchema, type ObserveConfig } from './sections/observe.js';
import { brokerSchema, type BrokerConfig } from './sections/broker.js';
import { storeSchema, type StoreConfig } from './sections/store.js';
import { upstreamSchema, type UpstreamConfig } from './sections/upstream.js';
import { localSchema, type LocalConfig } from './sections/local.js';
import { commonDeviceShape, commonTagShape, type DeviceConfig } from './sections/devices.js';

export interface GatewayConfig {
  version: 1;
  site: SiteConfig;
  observe: ObserveConfig;
  broker?: BrokerConfig | undefined;
  store?: StoreConfig | undefined;
  upstream?: UpstreamConfig | undefined;
  local: LocalConfig;
  devices: DeviceConfig[];
}

function deviceVariant(driver: DriverSchema) {
  return z
    .strictObject({
      ...commonDeviceShape,
      driver: z.literal(driver.type),
      connection: driver.connectionSchema,
      tags: z
        .array(z.strictObject({ ...commonTagShape, ...driver.tagShape }))
        .min(1, 'a device needs at least one tag'),
    })
    // `when: always`: the cross-field checks run even when a field failed its schema, so that
    // `fieldgate validate` reports every problem in one pass (issue 12). The value may then be
    // partly raw: the checks skip what they cannot read and any field that already has an issue.
    .superRefine((device, ctx) => checkDevice(driver, device as unknown as DeviceConfig, ctx), { when: () => true })
    .transform((device) => (driver.resolveDefaults?.(device as unknown as DeviceConfig) ?? device) as typeof device)
    .meta({ title: `${driver.type} device`, description: driver.description });
}

function checkDevice(driver: DriverSchema, device: DeviceConfig, ctx: z.core.$RefinementCtx): void {
  if (typeof device !== 'object' || device === null || !Array.isArray(device.tags)) return;
  const clean = ctx.issues.length === 0;
  const flagged = new Set(ctx.issues.map((i) => (i.path ?? []).slice(0, 3).join('.')));
  const add = (path: Array<string | number>, message: string) => {
    // One message per field: a schema issue at (or under) the same tag field wins.
    if (!clean && flagged.has(path.slice(0, 3).join('.'))) return;
    ctx.addIssue({ code: 'custom', path, message });
  };
  const seen = new Map<string, number>();
  device.tags.forEach((tag, i) => {
    if (typeof tag !== 'object' || tag === null || typeof tag.name !== 'string') return;
    const first = seen.get(tag.name);
    if (first !== undefined) add(['tags', i, 'name'], `duplicate tag "${tag.name}" (first at tags[${first}])`);
    else seen.set(tag.name, i);
    if (tag.writable === true && !driver.capabilities.write) add(['tags', i, 'writable'], `driver "${driver.type}" cannot write`);
  });
  let problems: ReturnType<NonNullable<DriverSchema['check']>> = [];
  try {
    problems = driver.check?.(device) ?? [];
  } catch (e) {
    // A driver check reading a value that failed its schema; those fields are reported already.
    if (clean) throw e;
  }
  for (const p of problems) add(p.path, p.message);
}

export function buildConfigSchema(drivers: readonly DriverSchema[]) {
  const names = drivers.map((d) => d.type);
  const [first, ...rest] = drivers.map(deviceVariant);
  if (first === undefined) throw new Error('no drivers registered');
  const device = z.discriminatedUnion('driver', [first, ...rest], {
    error: (iss) => {
      const input = iss.input as { driver?: unknown } | undefined;
      if (iss.code !== 'invalid_union') return undefined;
      if (input === undefined || input === null || typeof input !== 'object') return 'expected a device (a mapping with name, driver, connection, tags)';
      if (input.driver === undefined) return `driver is required (one of: ${names.join(', ')})`;
      return `unknown driver "${String(input.driver)}" (known: ${names.join(', ')})`;
    },
  });

  return z
    .strictObject({
      version: z.literal(1, { error: 'version must be 1' }),
      site: siteSchema,
      observe: observeSchema.prefault({}),
      broker: brokerSchema.optional(),
      store: storeSchema.optional(),
      upstream: upstreamSchema.optional(),
      local: localSchema.prefault({}),
      devices: z.array(device).default([]),
    })
    .superRefine((cfg, ctx) => {
      if (typeof cfg !== 'object' || cfg === null || !Array.isArray(cfg.devices)) return;
      const seen = new Map<string, number>();
      cfg.devices.forEach((d, i) => {
        if (typeof d !== 'object' || d === null || typeof d.name !== 'string') return;
        const first = seen.get(d.name);
        if (first !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['devices', i, 'name'], message: `duplicate device "${d.name}" (first at devices[${first}])` });
        } else {
          seen.set(d.name, i);
        }
      });
    }, { when: () => true })
    .meta({ title: 'fieldgate site configuration' });
}

export type ConfigSchema = ReturnType<typeof buildConfigSchema>;

/** JSON Schema (draft 2020-12) of the site file as a person writes it, for editors. */
export function configJsonSchema(drivers: readonly DriverSchema[]): Record<string, unknown> {
  return z.toJSONSchema(buildConfigSchema(drivers), { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' });
}
