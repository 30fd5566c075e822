// One Modbus device (one unit id on one line): polls its tags through the planner and writes
// writable tags. It shares its line with every other device on the same endpoint.
import type { Driver, DriverContext } from '../../src/runtime/driver.js';
import type { TagConfig } from '../../src/config/sections/devices.js';
import type { Reading, TagValue } from '../../src/runtime/types.js';
import { FieldgateError, errorMessage } from '../../src/errors.js';
import { decodeRegisters, encodeValue, toBool } from './codec.js';
import { LearningPlanner, isBitTable, probesFor, type Plan, type PlanItem, type ReadRequest, type Table } from './planner.js';
import { EXCEPTION, ModbusRequestError } from './request-error.js';
import { resolveTag, type ModbusConnection, type ModbusTagFields, type ResolvedTag } from './schema.js';
import type { LineRegistry, ModbusClient, ModbusLine } from './line.js';
import { ModbusMetrics } from './metrics.js';
import { neverAnsweredHint, withHint } from './hint.js';

const READ_FC: Record<Table, number> = { coil: 1, discrete: 2, holding: 3, input: 4 };

/** Registers (holding/input) or bits (coil/discrete) as read. */
type ReadData = number[] | boolean[];

export class ModbusDeviceDriver implements Driver {
  private line: ModbusLine | undefined;
  private readonly tags = new Map<string, ResolvedTag>();
  private readonly planner: LearningPlanner;
  private readonly items: readonly PlanItem[];
  private readonly groupPlans = new Map<string, { base: Plan; plan: Plan }>();
  private readonly metrics: ModbusMetrics;
  private readonly conn: ModbusConnection;
  private readonly requestTimeout: number;
  /** Whether the device answered anything (data or an exception) since it was created. */
  private answered = false;
  /** The last failed attempt while the device has never answered: what diagnose() explains. */
  private silentFailure: ModbusRequestError | undefined;
  /** A frame went out and nothing came back yet (the poll's timeout may end it first). */
  private awaitingAnswer = false;

  constructor(
    private readonly ctx: DriverContext<ModbusConnection, ModbusTagFields>,
    private readonly lines: LineRegistry,
  ) {
    const device = ctx.device;
    this.conn = device.connection;
    for (const tag of device.tags) this.tags.set(tag.name, resolveTag(tag));
    const items: PlanItem[] = [...this.tags.values()].map((t) => ({ id: t.name, table: t.table, address: t.address, count: t.count }));
    this.items = items;
    this.planner = new LearningPlanner(items, {
      maxRegisters: this.conn.maxRegistersPerRequest,
      maxBits: this.conn.maxBitsPerRequest,
      registerGap: this.conn.registerGap,
      bitGap: this.conn.bitGap,
    });
    this.metrics = new ModbusMetrics(ctx.metrics, device.name);
    // Every attempt must fit in the device timeout, or retries could never happen.
    this.requestTimeout = this.conn.requestTimeout ?? Math.max(20, Math.floor(device.timeout / (this.conn.retries + 1)));
  }

  async start(): Promise<void> {
    this.line ??= this.lines.acquire(this.conn, this.ctx.logger);
    try {
      await this.line.open(this.requestTimeout);
    } catch (e) {
      throw e instanceof ModbusRequestError && !this.answered ? withHint(e, this.conn) : e;
    }
  }

  diagnose(): string | undefined {
    if (this.answered) return undefined;
    const failure = this.silentFailure ?? (this.awaitingAnswer ? new ModbusRequestError('timeout', 'no answer') : undefined);
    return failure === undefined ? undefined : neverAnsweredHint(failure, this.conn);
  }

  async stop(): Promise<void> {
    const line = this.line;
    this.line = undefined;
    if (line !== undefined) await this.lines.release(line);
  }

  async poll(signal: AbortSignal, group?: readonly string[]): Promise<Reading[]> {
    const started = performance.now();
    const readings = new Map<string, Reading>();
    const plan = group === undefined ? this.planner.plan() : this.groupPlan(group);
    for (const u of plan.unreadable) readings.set(u.item.id, bad(u.item.id, u.reason));
    for (const request of plan.requests) await this.readInto(request, signal, readings, 0);
    const elapsed = performance.now() - started;
    if (elapsed > this.ctx.device.pollInterval) this.metrics.overrun();
    // Keep the device's tag order: downstream births list metrics in config order.
    const tags = group === undefined ? this.ctx.device.tags : this.ctx.device.tags.filter((t) => readings.has(t.name) || group.includes(t.name));
    return tags.map((t) => readings.get(t.name) ?? bad(t.name, 'not read'));
  }

  /**
   * Issue 20, poll groups: the planner per group, sharing what the device taught (holes,
   * request limits). Cached until a lesson changes the device's own plan.
   */
  private groupPlan(group: readonly string[]): Plan {
    const key = group.join('\u0000');
    const base = this.planner.plan();
    const cached = this.groupPlans.get(key);
    if (cached !== undefined && cached.base === base) return cached.plan;
    const names = new Set(group);
    const plan = this.planner.replan(this.items.filter((i) => names.has(i.id)));
    this.groupPlans.set(key, { base, plan });
    return plan;
  }

  /** Read one planned request; an answered failure becomes per-tag BAD, silence rethrows. */
  private async readInto(request: ReadRequest, signal: AbortSignal, out: Map<string, Reading>, depth: number): Promise<void> {
    try {
      const data = await this.read(request.table, request.address, request.count, signal);
      this.decodeInto(request, data, out);
    } catch (e) {
      if (!(e instanceof ModbusRequestError) || !e.deviceAnswered) throw e;
      if (e.exceptionCode === EXCEPTION.ILLEGAL_DATA_ADDRESS && request.items.length > 1 && depth === 0) {
        await this.probeIllegal(request, signal, out);
        return;
      }
      if (e.exceptionCode === EXCEPTION.ILLEGAL_DATA_VALUE && depth < 8) {
        // A sibling request may already have taught the new maximum during this poll.
        const limits = this.planner.currentLimits;
        const alreadyLowered = request.count > (isBitTable(request.table) ? limits.maxBits : limits.maxRegisters);
        const lowered = alreadyLowered ? undefined : this.planner.learnTooLarge(request);
        if (alreadyLowered || lowered !== undefined) {
          const kind = isBitTable(request.table) ? 'bits' : 'registers';
          if (lowered !== undefined) this.ctx.logger.warn(
            { device: this.ctx.device.name, table: request.table, refused: request.count, max: lowered },
            `device refused a read of ${request.count} ${kind}; reading at most ${lowered} per request from now on`,
          );
          const sub = this.planner.replan(request.items);
          for (const u of sub.unreadable) out.set(u.item.id, bad(u.item.id, u.reason));
          for (const r of sub.requests) await this.readInto(r, signal, out, depth + 1);
          return;
        }
      }
      if (e.exceptionCode === EXCEPTION.ILLEGAL_DATA_ADDRESS && request.items.length === 1) {
        this.learnHole(request, request.items);
      }
      for (const item of request.items) out.set(item.id, bad(item.id, e.message));
    }
  }

  /** Illegal address somewhere in a joined request: read each span alone to find it. */
  private async probeIllegal(request: ReadRequest, signal: AbortSignal, out: Map<string, Reading>): Promise<void> {
    const failed: PlanItem[] = [];
    for (const probe of probesFor(request)) {
      try {
        this.decodeInto(probe, await this.read(probe.table, probe.address, probe.count, signal), out);
      } catch (e) {
        if (!(e instanceof ModbusRequestError) || !e.deviceAnswered) throw e;
        if (e.exceptionCode === EXCEPTION.ILLEGAL_DATA_ADDRESS) failed.push(...probe.items);
        for (const item of probe.items) out.set(item.id, bad(item.id, e.message));
      }
    }
    this.learnHole(request, failed);
  }

  private learnHole(request: ReadRequest, failed: readonly PlanItem[]): void {
    const learned = this.planner.learnIllegalAddress(request, failed);
    if (learned.length === 0) return;
    this.ctx.logger.warn(
      { device: this.ctx.device.name, table: request.table, addresses: learned, tags: failed.map((i) => i.id) },
      'device refused these addresses (exception 2); requests will skip them from now on',
    );
  }

  private decodeInto(request: ReadRequest, data: ReadData, out: Map<string, Reading>): void {
    for (const item of request.items) {
      const tag = this.tags.get(item.id);
      if (tag === undefined) continue;
      const offset = item.address - request.address;
      try {
        let value: TagValue;
        if (isBitTable(tag.table)) {
          const bit = data[offset];
          if (typeof bit !== 'boolean') throw new Error(`answer holds no bit ${item.address}`);
          value = bit;
        } else {
          const words = (data as number[]).slice(offset, offset + item.count);
          value = decodeRegisters(words, tag.layout);
        }
        const raw = this.ctx.probe === true ? rawText(data, offset, isBitTable(tag.table) ? 1 : item.count) : undefined;
        out.set(item.id, { tag: item.id, value, quality: 'GOOD', ...(raw !== undefined ? { raw } : {}) });
      } catch (e) {
        const raw = this.ctx.probe === true ? rawText(data, offset, item.count) : undefined;
        out.set(item.id, { ...bad(item.id, `decode error: ${errorMessage(e)}`), ...(raw !== undefined ? { raw } : {}) });
      }
    }
  }

  /** One read with the device's retries: a timeout or a bad CRC is worth another try. */
  private async read(table: Table, address: number, count: number, signal: AbortSignal): Promise<ReadData> {
    const fc = READ_FC[table];
    return this.request(`FC${fc} ${table} ${address}+${count}`, fc, signal, async (c) => {
      switch (table) {
        case 'coil': return (await c.readCoils(address, count)).data;
        case 'discrete': return (await c.readDiscreteInputs(address, count)).data;
        case 'holding': return (await c.readHoldingRegisters(address, count)).data;
        case 'input': return (await c.readInputRegisters(address, count)).data;
      }
    });
  }

  private async request<T>(what: string, fc: number, signal: AbortSignal, fn: (c: ModbusClient) => Promise<T>): Promise<T> {
    const line = this.line ?? (this.line = this.lines.acquire(this.conn, this.ctx.logger));
    const label = `${this.ctx.device.name} (unit ${this.conn.unitId} on ${line.key}) ${what}`;
    for (let attempt = 0; ; attempt++) {
      const t0 = performance.now();
      this.metrics.request(fc);
      try {
        const result = await line.run(label, fn, { unitId: this.conn.unitId, timeoutMs: this.requestTimeout, signal, onSent: () => (this.awaitingAnswer = true) });
        this.metrics.responseTime((performance.now() - t0) / 1000);
        this.answered = true;
        return result;
      } catch (e) {
        const err = e instanceof ModbusRequestError ? e : new ModbusRequestError('connection', `${label}: ${errorMessage(e)}`);
        this.metrics.error(err.kind);
        if (err.deviceAnswered) this.answered = true;
        // 'aborted' may be a request that never left a queue shared with a silent neighbour.
        if (!this.answered && err.kind !== 'aborted') this.silentFailure = err;
        const retriable = err.kind === 'timeout' || err.kind === 'crc' || err.kind === 'connection';
        // Issue 20: silent from the first poll, the device says which setting to check.
        if (!retriable || attempt >= this.conn.retries || signal.aborted) throw this.answered ? err : withHint(err, this.conn);
      }
    }
  }

  async write(tagConfig: TagConfig, value: TagValue, signal: AbortSignal): Promise<void> {
    const tag = this.tags.get(tagConfig.name);
    if (tag === undefined || !tag.writable) {
      throw new FieldgateError('FG_ERR_WRITE_REJECTED', `${this.ctx.device.name}/${tagConfig.name} is not a writable modbus tag`);
    }
    try {
      const expected = await this.writeTag(tag, value, signal);
      if (tag.readBack) await this.verify(tag, expected, signal);
    } catch (e) {
      if (e instanceof FieldgateError && (e.code === 'FG_ERR_WRITE_REJECTED' || e.code === 'FG_ERR_WRITE_FAILED')) throw e;
      throw new FieldgateError('FG_ERR_WRITE_FAILED', `write ${this.ctx.device.name}/${tag.name}: ${errorMessage(e)}`, { cause: e });
    }
  }

  /** Returns what the device should now hold, for the read-back. */
  private async writeTag(tag: ResolvedTag, value: TagValue, signal: AbortSignal): Promise<ReadData> {
    const multiple = tag.writeFunction === 'multiple';
    if (tag.table === 'coil') {
      const on = toBool(value);
      if (multiple) await this.request(`FC15 coil ${tag.address}`, 15, signal, (c) => c.writeCoils(tag.address, [on]));
      else await this.request(`FC5 coil ${tag.address}`, 5, signal, (c) => c.writeCoil(tag.address, on));
      return [on];
    }
    let current: number | undefined;
    if (tag.layout.type === 'bool' && tag.layout.bit !== undefined) {
      // Read-modify-write: the other 15 bits belong to other tags or to the device.
      current = (await this.read('holding', tag.address, 1, signal))[0] as number;
    }
    const regs = encodeValue(value, tag.layout, current);
    if (regs.length === 1 && !multiple) {
      await this.request(`FC6 holding ${tag.address}`, 6, signal, (c) => c.writeRegister(tag.address, regs[0] ?? 0));
    } else {
      await this.request(`FC16 holding ${tag.address}+${regs.length}`, 16, signal, (c) => c.writeRegisters(tag.address, regs));
    }
    return regs;
  }

  private async verify(tag: ResolvedTag, expected: ReadData, signal: AbortSignal): Promise<void> {
    const got = await this.read(tag.table, tag.address, tag.count, signal);
    const same = isBitTable(tag.table)
      ? got[0] === expected[0]
      : expected.every((w, i) => got[i] === w);
    if (!same) {
      throw new FieldgateError(
        'FG_ERR_WRITE_FAILED',
        `write ${this.ctx.device.name}/${tag.name}: read-back [${got.slice(0, tag.count).join(',')}] differs from written [${expected.join(',')}]`,
      );
    }
  }
}

/** Words as hex (`0x021b 0x0000`) or bits as 0/1, for probe rows. */
function rawText(data: ReadData, offset: number, count: number): string {
  return data
    .slice(offset, offset + count)
    .map((v) => (typeof v === 'boolean' ? (v ? '1' : '0') : `0x${v.toString(16).padStart(4, '0')}`))
    .join(' ');
}

function bad(tag: string, error: string): Reading {
  return { tag, value: null, quality: 'BAD', error };
}
