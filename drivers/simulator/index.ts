// A simulated device: deterministic signals, writable setpoints and injected faults. The demo
// runs on it, and tests use it wherever a real field protocol adds nothing.
import { z } from 'zod';
import { duration } from '../../src/config/fields.js';
import type { DeviceConfig, TagConfig } from '../../src/config/sections/devices.js';
import { defineDriver, type ConfigProblem, type Driver, type DriverContext } from '../../src/runtime/driver.js';
import { FieldgateError } from '../../src/errors.js';
import type { Reading, TagValue } from '../../src/runtime/types.js';
import { SignalGenerator, type Signal } from './signals.js';

const signalSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('constant'), value: z.union([z.number(), z.string(), z.boolean()]) }),
    z.strictObject({ kind: z.literal('counter'), start: z.number().default(0), step: z.number().default(1), max: z.number().optional() }),
    z.strictObject({
      kind: z.literal('sine'),
      min: z.number().default(-1),
      max: z.number().default(1),
      period: duration('one full wave').prefault('60s'),
      phase: z.number().default(0).meta({ description: 'radians' }),
    }),
    z.strictObject({
      kind: z.literal('square'),
      low: z.number().default(0),
      high: z.number().default(1),
      period: duration('one full cycle').prefault('10s'),
      duty: z.number().min(0).max(1).default(0.5),
    }),
    z.strictObject({
      kind: z.literal('random-walk'),
      start: z.number().default(0),
      step: z.number().positive().default(1),
      min: z.number().default(-100),
      max: z.number().default(100),
    }),
    z.strictObject({
      kind: z.literal('states'),
      values: z.array(z.union([z.number(), z.string()])).min(1),
      period: duration('time spent in each state').prefault('5s'),
    }),
  ],
  { error: 'signal.kind must be one of constant, counter, sine, square, random-walk, states' },
);

const faultSchema = z.strictObject({
  after: duration('time from the first start until the device stops answering'),
  for: duration('how long it stays silent'),
  every: duration('repeat the fault with this period').optional(),
});

const connectionSchema = z
  .strictObject({
    seed: z.number().int().default(1).meta({ description: 'seed of the random walks' }),
    latency: duration('time each poll takes to answer').prefault('0ms'),
    closeLatency: duration('time the device takes to close its session on stop (a slow goodbye)').prefault('0ms'),
    faults: z.array(faultSchema).default([]).meta({ description: 'windows in which the device stops answering' }),
  })
  .prefault({});

const tagShape = {
  signal: signalSchema.default({ kind: 'constant', value: 0 }),
};

type Connection = z.output<typeof connectionSchema>;
type TagExtra = { signal: Signal };

function check(device: DeviceConfig<Connection, TagExtra>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  device.tags.forEach((tag, i) => {
    const s = tag.signal;
    const textual = (s.kind === 'states' && s.values.some((v) => typeof v === 'string')) || (s.kind === 'constant' && typeof s.value === 'string');
    if (textual && tag.type !== 'string') problems.push({ path: ['tags', i, 'type'], message: 'a signal with text values needs type: string' });
    if ((s.kind === 'sine' || s.kind === 'random-walk') && s.max <= s.min) problems.push({ path: ['tags', i, 'signal', 'max'], message: 'max must be greater than min' });
  });
  return problems;
}

function coerce(value: number | string | boolean, tag: TagConfig): TagValue {
  switch (tag.type) {
    case 'bool':
      return typeof value === 'string' ? value !== '' : Boolean(value);
    case 'string':
      return String(value);
    case 'int64':
    case 'uint64':
      return BigInt(Math.round(Number(value)));
    case 'float32':
    case 'float64':
    case 'datetime':
      return Number(value);
    case 'bytes':
      return new TextEncoder().encode(String(value));
    default:
      return Math.round(Number(value));
  }
}

class SimulatedDevice implements Driver {
  private readonly generators: Map<string, SignalGenerator>;
  private readonly setpoints = new Map<string, TagValue>();
  private firstStart: number | undefined;

  constructor(private readonly ctx: DriverContext<Connection, TagExtra>) {
    const seed = ctx.device.connection.seed;
    this.generators = new Map(ctx.device.tags.map((t, i) => [t.name, new SignalGenerator(t.signal, seed * 7919 + i)]));
  }

  async start(): Promise<void> {
    const now = this.ctx.clock.monotonic();
    this.firstStart ??= now;
    if (this.inFault(now)) throw new FieldgateError('FG_ERR_DEVICE_IO', 'simulated device refuses connections (injected fault)');
  }

  async stop(): Promise<void> {
    const ms = this.ctx.device.connection.closeLatency;
    if (ms > 0) await new Promise<void>((r) => this.ctx.clock.setTimeout(r, ms));
  }

  async poll(signal: AbortSignal): Promise<Reading[]> {
    const { clock, device } = this.ctx;
    if (this.inFault(clock.monotonic())) {
      // A silent device: no answer at all, so the runtime's timeout is what ends the poll.
      await sleep(clock, Number.MAX_SAFE_INTEGER, signal);
    }
    if (device.connection.latency > 0) await sleep(clock, device.connection.latency, signal);
    const elapsed = clock.monotonic() - (this.firstStart ?? 0);
    return device.tags.map((tag) => {
      const held = this.setpoints.get(tag.name);
      const value = held ?? coerce(this.generators.get(tag.name)?.next(elapsed) ?? 0, tag);
      return { tag: tag.name, value, quality: 'GOOD' as const };
    });
  }

  async write(tag: TagConfig, value: TagValue): Promise<void> {
    if (this.inFault(this.ctx.clock.monotonic())) throw new FieldgateError('FG_ERR_DEVICE_IO', 'simulated device is not answering');
    this.setpoints.set(tag.name, value);
  }

  private inFault(now: number): boolean {
    const t = now - (this.firstStart ?? now);
    return this.ctx.device.connection.faults.some((f) => {
      if (t < f.after) return false;
      const into = f.every === undefined ? t - f.after : (t - f.after) % f.every;
      return into < f.for;
    });
  }
}

function sleep(clock: DriverContext['clock'], ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = ms >= Number.MAX_SAFE_INTEGER ? undefined : clock.setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        if (timer !== undefined) clock.clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

export const simulatorDriver = defineDriver<Connection, TagExtra>({ connectionSchema, tagShape, check }, {
  type: 'simulator',
  description: 'simulated device with deterministic signals, writable setpoints and injected faults',
  capabilities: { poll: true, write: true, subscribe: false, browse: false },
  create: (ctx) => new SimulatedDevice(ctx),
});

export default simulatorDriver;
