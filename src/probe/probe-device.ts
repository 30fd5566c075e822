// `fieldgate probe` (issue 20): connect to one device, plan, read every tag once and say, per
// tag, what came off the wire, what it became and why it is not GOOD. No broker, no outbox,
// no upstream: the driver and the tag model only, exactly as the gateway would run them.
import type { DeviceConfig } from '../config/sections/devices.js';
import { errorMessage, isFieldgateError } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import { MetricsRegistry } from '../observe/metrics.js';
import { systemClock } from '../shared/clock.js';
import type { Driver, DriverFactory } from '../runtime/driver.js';
import { TagState } from '../runtime/tag-state.js';
import type { Quality, Reading, TagValue } from '../runtime/types.js';
import { withTimeout } from '../runtime/with-timeout.js';

const PROBE_GRACE_MS = 500;

export interface ProbeRow {
  device: string;
  tag: string;
  address: string;
  raw: string;
  value: TagValue | null;
  quality: Quality;
  reason?: string;
}

export interface ProbeOptions {
  logger: Logger;
  /** How long a subscribing driver (OPC UA, streaming serial) may take to deliver every tag. */
  listenMs?: number;
}

export async function probeDevice(device: DeviceConfig, factory: DriverFactory, options: ProbeOptions): Promise<ProbeRow[]> {
  const pushed = new Map<string, Reading>();
  const clock = systemClock;
  const driver: Driver = factory.create({
    device,
    logger: options.logger.child({ device: device.name }),
    metrics: new MetricsRegistry(),
    clock,
    publish: (readings) => {
      for (const r of readings) pushed.set(r.tag, r);
    },
    reportLink: () => undefined,
    probe: true,
  });
  const failAll = (why: string): Map<string, Reading> =>
    new Map(device.tags.map((t) => [t.name, { tag: t.name, value: null, quality: 'BAD', error: why }]));
  const explain = (e: unknown): string => {
    const message = errorMessage(e);
    const timeout = isFieldgateError(e, 'FG_ERR_DEVICE_TIMEOUT') || /timed out|no answer/i.test(message);
    const hint = timeout ? driver.diagnose?.() : undefined;
    return hint !== undefined && !message.includes(hint) ? `${message}; ${hint}` : message;
  };

  let readings: Map<string, Reading>;
  try {
    await withTimeout(clock, device.timeout, `connect ${device.name}`, () => driver.start());
    if (driver.poll !== undefined) {
      const poll = driver.poll.bind(driver);
      // A little past the device timeout, so the driver's own request timeouts (and their
      // hints: "check unitId") end the read rather than this outer bound.
      const list = await withTimeout(clock, device.timeout + PROBE_GRACE_MS, `poll ${device.name}`, (signal) => poll(signal));
      readings = new Map(list.map((r) => [r.tag, r]));
    } else {
      readings = await awaitPushed(pushed, device, options.listenMs ?? Math.max(device.timeout, device.pollInterval));
    }
  } catch (e) {
    readings = failAll(explain(e));
  } finally {
    await withTimeout(clock, device.timeout, `stop ${device.name}`, () => driver.stop()).catch((e: unknown) =>
      options.logger.warn({ device: device.name, err: errorMessage(e) }, 'driver stop failed'),
    );
  }

  const now = clock.now();
  return device.tags.map((tag) => {
    const reading = readings.get(tag.name) ?? { tag: tag.name, value: null, quality: 'BAD' as const, error: 'no value received' };
    const state = new TagState(device.name, tag, undefined);
    state.accept(reading, now);
    const current = state.current();
    return {
      device: device.name,
      tag: tag.name,
      address: factory.describeTag?.(tag) ?? '',
      raw: reading.raw ?? '',
      value: current.value,
      quality: current.quality,
      ...(current.reason !== undefined ? { reason: current.reason } : {}),
    };
  });
}

/** Waits until every tag has a pushed reading, or `ms` passed. */
async function awaitPushed(pushed: Map<string, Reading>, device: DeviceConfig, ms: number): Promise<Map<string, Reading>> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && !device.tags.every((t) => pushed.has(t.name))) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const out = new Map(pushed);
  for (const t of device.tags) {
    if (!out.has(t.name)) out.set(t.name, { tag: t.name, value: null, quality: 'BAD', error: `no value within ${ms} ms` });
  }
  return out;
}
