// The modbus driver against modbus-serial's ServerTCP on loopback: real sockets, real frames.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { isFieldgateError } from '../../src/errors.js';
import { createModbusDriver } from './index.js';
import { byTag, harness, signal, type Harness } from './testing/harness.js';
import { TestModbusServer } from './testing/tcp-server.js';
import { until } from '../../test/helpers/until.js';

interface Fixture { type: string; byteOrder: string; value: number | string; length?: number; registers: number[] }
const fixtures = JSON.parse(readFileSync(new URL('./fixtures/codec-fixtures.json', import.meta.url), 'utf8')) as Fixture[];

const servers: TestModbusServer[] = [];
const drivers: Harness[] = [];

async function server(): Promise<TestModbusServer> {
  const s = new TestModbusServer();
  await s.start();
  servers.push(s);
  return s;
}

function device(factory: ReturnType<typeof createModbusDriver>, port: number, extra: Record<string, unknown>): Harness {
  const h = harness(factory, {
    name: 'dev',
    driver: 'modbus',
    timeout: '1s',
    ...extra,
    connection: { host: '127.0.0.1', port, unitId: 1, ...(extra['connection'] as object | undefined) },
  });
  drivers.push(h);
  return h;
}

function counter(h: Harness, name: string, labels: Record<string, string>): number {
  const line = h.metrics.render().split('\n').find((l) => {
    if (!l.startsWith(`${name}{`)) return false;
    return Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`));
  });
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

afterEach(async () => {
  for (const h of drivers.splice(0)) await h.driver.stop();
  for (const s of servers.splice(0)) await s.stop();
});

describe('reading every type and byte order', () => {
  it('decodes struct-computed registers placed in holding and input registers', async () => {
    const s = await server();
    const tags: Array<Record<string, unknown>> = [];
    let address = 0;
    fixtures.forEach((f, i) => {
      const table = i % 2 === 0 ? 'holding' : 'input';
      s.unit(1)[table].set(f.registers, address);
      tags.push({ name: `f${i}`, table, address, type: f.type, byteOrder: f.byteOrder, ...(f.length ? { length: f.length } : {}) });
      address += f.registers.length;
    });
    const h = device(createModbusDriver(), s.port, { tags });
    await h.driver.start();
    const readings = await h.driver.poll(signal());
    expect(readings).toHaveLength(fixtures.length);
    fixtures.forEach((f, i) => {
      const r = readings[i];
      const want = f.type === 'int64' || f.type === 'uint64' ? BigInt(f.value) : f.value;
      expect(r, `f${i} ${f.type} ${f.byteOrder}`).toEqual({ tag: `f${i}`, value: want, quality: 'GOOD' });
    });
    // 600-odd registers split over two tables; each table needs ceil(span / 125) requests.
    const span = address;
    const perTable = Math.ceil(span / 125);
    expect(counter(h, 'fieldgate_modbus_requests_total', { fc: '3' })).toBe(perTable);
    expect(counter(h, 'fieldgate_modbus_requests_total', { fc: '4' })).toBe(perTable);
  });

  it('reads coils, discrete inputs and bits of a register; 0-based and "4xxxx" addresses agree', async () => {
    const s = await server();
    const u = s.unit(1);
    u.coil[10] = 1;
    u.discrete[3] = 1;
    u.holding[0] = 0b1010;
    u.holding[99] = 4242;
    u.input[0] = 7;
    const h = device(createModbusDriver(), s.port, {
      tags: [
        { name: 'c10', table: 'coil', address: 10 },
        { name: 'c11', table: 'coil', address: 11 },
        { name: 'd3', address: '10004' },
        { name: 'b1', table: 'holding', address: 0, type: 'bool', bit: 1 },
        { name: 'b2', table: 'holding', address: 0, type: 'bool', bit: 2 },
        { name: 'h99', address: 99 },
        { name: 'h99modicon', address: '40100' },
        { name: 'h99six', address: '400100' },
        { name: 'i0', address: '30001' },
      ],
    });
    await h.driver.start();
    const r = byTag(await h.driver.poll(signal()));
    const values = Object.fromEntries([...r].map(([k, v]) => [k, v.value]));
    expect(values).toEqual({ c10: true, c11: false, d3: true, b1: true, b2: false, h99: 4242, h99modicon: 4242, h99six: 4242, i0: 7 });
  });
});

describe('exceptions and learning', () => {
  it('an illegal address makes only that tag BAD and is skipped from the next poll on', async () => {
    const s = await server();
    s.unit(1).holding.set([1, 2, 3, 4, 5], 0);
    s.unit(1).behaviour.illegal = { holding: [2] };
    const h = device(createModbusDriver(), s.port, {
      tags: [0, 1, 2, 3, 4].map((a) => ({ name: `r${a}`, address: a })),
    });
    await h.driver.start();
    const first = byTag(await h.driver.poll(signal()));
    expect(first.get('r2')).toMatchObject({ quality: 'BAD', value: null });
    expect(first.get('r2')?.error).toMatch(/exception 2|Illegal data address/i);
    for (const a of [0, 1, 3, 4]) expect(first.get(`r${a}`)).toMatchObject({ quality: 'GOOD', value: a + 1 });
    const exceptionsAfterFirst = counter(h, 'fieldgate_modbus_errors_total', { kind: 'exception' });
    s.reads.length = 0;
    const second = byTag(await h.driver.poll(signal()));
    expect(second.get('r2')).toMatchObject({ quality: 'BAD' });
    expect(second.get('r4')).toMatchObject({ quality: 'GOOD', value: 5 });
    // The hole is remembered: two requests around it, and no new exception.
    expect(s.reads.map(([, t, a, n]) => `${t}:${a}+${n}`)).toEqual(['holding:0+2', 'holding:3+2']);
    expect(counter(h, 'fieldgate_modbus_errors_total', { kind: 'exception' })).toBe(exceptionsAfterFirst);
    expect(h.logs.filter((l) => String(l['msg']).includes('exception 2'))).toHaveLength(1);
  });

  it('an illegal address in the padding between tags is found and avoided', async () => {
    const s = await server();
    s.unit(1).holding.set([11, 0, 0, 0, 15], 0);
    s.unit(1).behaviour.illegal = { holding: [2] };
    const h = device(createModbusDriver(), s.port, {
      tags: [{ name: 'a', address: 0 }, { name: 'b', address: 4 }],
    });
    await h.driver.start();
    const first = byTag(await h.driver.poll(signal()));
    expect(first.get('a')).toMatchObject({ quality: 'GOOD', value: 11 });
    expect(first.get('b')).toMatchObject({ quality: 'GOOD', value: 15 });
    s.reads.length = 0;
    await h.driver.poll(signal());
    expect(s.reads.map(([, t, a, n]) => `${t}:${a}+${n}`)).toEqual(['holding:0+1', 'holding:4+1']);
  });

  it('a device that caps request size gets its maximum lowered once and all tags read', async () => {
    const s = await server();
    const values = Array.from({ length: 100 }, (_, i) => 1000 + i);
    s.unit(1).holding.set(values, 0);
    s.unit(1).behaviour.maxRegisters = 30;
    const h = device(createModbusDriver(), s.port, {
      tags: values.map((_, i) => ({ name: `r${i}`, address: i })),
    });
    await h.driver.start();
    const first = await h.driver.poll(signal());
    expect(first.filter((r) => r.quality !== 'GOOD')).toEqual([]);
    expect(first.every((r, i) => r.quality === 'GOOD' && r.value === 1000 + i)).toBe(true);
    s.reads.length = 0;
    const second = await h.driver.poll(signal());
    expect(second.every((r, i) => r.quality === 'GOOD' && r.value === 1000 + i)).toBe(true);
    // 100 → 50 → 25: four requests of 25, no more refusals, and one log line per lowering.
    expect(s.reads.map(([, , a, n]) => `${a}+${n}`)).toEqual(['0+25', '25+25', '50+25', '75+25']);
    const lowered = h.logs.filter((l) => String(l['msg']).includes('reading at most'));
    expect(lowered.map((l) => l['max'])).toEqual([50, 25]);
  });

  it('a device failure (exception 4) is an answer: tags BAD, poll resolves; a gateway exception (11) is silence', async () => {
    const s = await server();
    const h = device(createModbusDriver(), s.port, { tags: [{ name: 'a', address: 0 }, { name: 'c', table: 'coil', address: 0 }] });
    await h.driver.start();
    s.unit(1).behaviour.exception = 4;
    const r = byTag(await h.driver.poll(signal()));
    expect(r.get('a')).toMatchObject({ quality: 'BAD', error: expect.stringMatching(/exception 4/i) });
    expect(r.get('c')).toMatchObject({ quality: 'GOOD', value: false });
    // Exception 11: the gateway's target did not respond; the device is as good as silent.
    s.unit(1).behaviour.exception = 11;
    await expect(h.driver.poll(signal())).rejects.toMatchObject({ code: 'FG_ERR_MODBUS_EXCEPTION', exceptionCode: 11 });
  });

  it('an exception on a lone tag is BAD for that tag while the poll resolves', async () => {
    const s = await server();
    s.unit(1).behaviour.illegal = { coil: [5] };
    const h = device(createModbusDriver(), s.port, {
      tags: [{ name: 'c5', table: 'coil', address: 5 }, { name: 'h0', address: 0 }],
    });
    await h.driver.start();
    const r = byTag(await h.driver.poll(signal()));
    expect(r.get('c5')).toMatchObject({ quality: 'BAD' });
    expect(r.get('h0')).toMatchObject({ quality: 'GOOD', value: 0 });
  });
});

describe('faults', () => {
  it('server stopped: the poll rejects; server restarted: the same driver reads again', async () => {
    const s = await server();
    s.unit(1).holding[0] = 77;
    const h = device(createModbusDriver(), s.port, { timeout: '600ms', tags: [{ name: 'a', address: 0 }] });
    await h.driver.start();
    expect((await h.driver.poll(signal()))[0]).toMatchObject({ value: 77, quality: 'GOOD' });
    await s.stop();
    const t0 = performance.now();
    const failed = await h.driver.poll(signal()).then(() => undefined, (e: unknown) => e);
    expect(isFieldgateError(failed)).toBe(true);
    expect((failed as { code: string }).code).toMatch(/FG_ERR_MODBUS_(CONNECTION|TIMEOUT)/);
    expect(performance.now() - t0).toBeLessThan(1500);
    await s.start(); // same port
    s.unit(1).holding[0] = 78;
    expect((await h.driver.poll(signal()))[0]).toMatchObject({ value: 78, quality: 'GOOD' });
  });

  it('start rejects when nothing listens, and stop is safe afterwards', async () => {
    const s = await server();
    await s.stop();
    const h = device(createModbusDriver(), s.port, { tags: [{ name: 'a', address: 0 }] });
    await expect(h.driver.start()).rejects.toMatchObject({ code: 'FG_ERR_MODBUS_CONNECTION' });
    await h.driver.stop();
  });

  it('a slow device never delays a fast one on another connection', async () => {
    const slow = await server();
    const fast = await server();
    slow.unit(1).behaviour.delayMs = 400;
    fast.unit(1).holding[0] = 5;
    const factory = createModbusDriver();
    const hs = device(factory, slow.port, { tags: [{ name: 'a', address: 0 }] });
    const hf = device(factory, fast.port, { tags: [{ name: 'a', address: 0 }] });
    await Promise.all([hs.driver.start(), hf.driver.start()]);
    const slowPoll = hs.driver.poll(signal());
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) expect((await hf.driver.poll(signal()))[0]).toMatchObject({ value: 5 });
    const fastElapsed = performance.now() - t0;
    await slowPoll;
    const slowElapsed = performance.now() - t0;
    expect(fastElapsed).toBeLessThan(200);
    expect(slowElapsed).toBeGreaterThanOrEqual(390);
  });

  it('a device slower than its timeout fails its poll with a timeout, after its retries', async () => {
    const s = await server();
    s.unit(1).behaviour.delayMs = 500;
    const h = device(createModbusDriver(), s.port, {
      timeout: '1s',
      connection: { retries: 1, requestTimeout: '100ms' },
      tags: [{ name: 'a', address: 0 }],
    });
    await h.driver.start();
    await expect(h.driver.poll(signal())).rejects.toMatchObject({ code: 'FG_ERR_MODBUS_TIMEOUT' });
    expect(counter(h, 'fieldgate_modbus_errors_total', { kind: 'timeout' })).toBe(2);
    expect(counter(h, 'fieldgate_modbus_requests_total', { fc: '3' })).toBe(2);
  });

  it('counts response times and poll overruns', async () => {
    const s = await server();
    s.unit(1).behaviour.delayMs = 120;
    const h = device(createModbusDriver(), s.port, { pollInterval: '100ms', tags: [{ name: 'a', address: 0 }] });
    await h.driver.start();
    await h.driver.poll(signal());
    s.unit(1).behaviour.delayMs = undefined;
    await h.driver.poll(signal());
    const text = h.metrics.render();
    expect(text).toMatch(/fieldgate_modbus_poll_overruns_total\{device="dev"\} 1\n/);
    expect(text).toMatch(/fieldgate_modbus_response_seconds_count\{device="dev"\} 2\n/);
    expect(text).toMatch(/fieldgate_modbus_response_seconds_bucket\{device="dev",le="0.25"\} 2\n/);
    expect(text).toMatch(/fieldgate_modbus_response_seconds_bucket\{device="dev",le="0.1"\} 1\n/);
  });

  it('the poll honours its abort signal', async () => {
    const s = await server();
    s.unit(1).behaviour.silent = true;
    const h = device(createModbusDriver(), s.port, { timeout: '5s', tags: [{ name: 'a', address: 0 }] });
    await h.driver.start();
    const t0 = performance.now();
    await expect(h.driver.poll(AbortSignal.timeout(150))).rejects.toMatchObject({ code: 'FG_ERR_DEVICE_TIMEOUT' });
    expect(performance.now() - t0).toBeLessThan(400);
  });
});

describe('several unit ids on one connection', () => {
  it('devices on one endpoint share one socket and read their own unit', async () => {
    const s = await server();
    s.unit(1).holding[0] = 101;
    s.unit(2).holding[0] = 202;
    const factory = createModbusDriver();
    const h1 = device(factory, s.port, { tags: [{ name: 'a', address: 0 }] });
    const h2 = device(factory, s.port, { connection: { unitId: 2 }, tags: [{ name: 'a', address: 0 }] });
    await Promise.all([h1.driver.start(), h2.driver.start()]);
    const [r1, r2] = await Promise.all([h1.driver.poll(signal()), h2.driver.poll(signal())]);
    expect(r1[0]).toMatchObject({ value: 101 });
    expect(r2[0]).toMatchObject({ value: 202 });
    expect(s.connections).toBe(1);
    await h1.driver.stop();
    expect((await h2.driver.poll(signal()))[0]).toMatchObject({ value: 202 });
    await h2.driver.stop();
    await until(() => s.connections === 0, 2000);
  });
});

describe('writes', () => {
  const tags = [
    { name: 'coil', table: 'coil', address: 1, writable: true },
    { name: 'coilMulti', table: 'coil', address: 2, writable: true, writeFunction: 'multiple' },
    { name: 'u16', address: 10, writable: true },
    { name: 'u16multi', address: 11, writable: true, writeFunction: 'multiple' },
    { name: 'f32', address: 20, type: 'float32', byteOrder: 'CDAB', writable: true, readBack: true },
    { name: 'i64', address: 30, type: 'int64', byteOrder: 'DCBA', writable: true },
    { name: 'text', address: 40, type: 'string', length: 4, writable: true },
    { name: 'bit3', address: 50, type: 'bool', bit: 3, writable: true, readBack: true },
    { name: 'ro', address: 60 },
  ];

  it('FC5, FC15, FC6, FC16 land in the server registers', async () => {
    const s = await server();
    s.unit(1).holding[50] = 0x8001;
    const h = device(createModbusDriver(), s.port, { tags });
    await h.driver.start();
    const tag = (n: string) => h.device.tags.find((t) => t.name === n) ?? { name: n, writable: true } as never;
    await h.driver.write(tag('coil'), true, signal());
    await h.driver.write(tag('coilMulti'), true, signal());
    await h.driver.write(tag('u16'), 65535, signal());
    await h.driver.write(tag('u16multi'), 7, signal());
    await h.driver.write(tag('f32'), 1, signal());
    await h.driver.write(tag('i64'), -2n, signal());
    await h.driver.write(tag('text'), 'PUMP', signal());
    await h.driver.write(tag('bit3'), true, signal());
    const u = s.unit(1);
    expect([u.coil[1], u.coil[2]]).toEqual([1, 1]);
    expect([u.holding[10], u.holding[11]]).toEqual([65535, 7]);
    expect(Array.from(u.holding.subarray(20, 22))).toEqual([0x0000, 0x3f80]);
    expect(Array.from(u.holding.subarray(30, 34))).toEqual([0xfeff, 0xffff, 0xffff, 0xffff]);
    expect(Array.from(u.holding.subarray(40, 44))).toEqual([0x5055, 0x4d50, 0, 0]);
    expect(u.holding[50]).toBe(0x8009); // bit 3 set, bits 0 and 15 kept
    expect(s.writes.map((w) => `${w.fc}@${w.address}`)).toEqual(['5@1', '15@2', '6@10', '16@11', '16@20', '16@30', '16@40', '6@50']);
    // And the values read back through the driver are what was written.
    const r = byTag(await h.driver.poll(signal()));
    expect(r.get('f32')).toMatchObject({ value: 1 });
    expect(r.get('i64')).toMatchObject({ value: -2n });
    expect(r.get('text')).toMatchObject({ value: 'PUMP' });
    expect(r.get('bit3')).toMatchObject({ value: true });
  });

  it('refuses writes to read-only tags and values the type cannot hold, before the wire', async () => {
    const s = await server();
    const h = device(createModbusDriver(), s.port, { tags });
    await h.driver.start();
    const tag = (n: string) => h.device.tags.find((t) => t.name === n) as never;
    await expect(h.driver.write(tag('ro'), 1, signal())).rejects.toMatchObject({ code: 'FG_ERR_WRITE_REJECTED' });
    await expect(h.driver.write(tag('u16'), 70000, signal())).rejects.toMatchObject({ code: 'FG_ERR_WRITE_REJECTED' });
    await expect(h.driver.write(tag('text'), 'TOO LONG!', signal())).rejects.toMatchObject({ code: 'FG_ERR_WRITE_REJECTED' });
    expect(s.writes).toEqual([]);
  });

  it('read-back catches a device that acknowledges a write and does not store it', async () => {
    const s = await server();
    s.unit(1).behaviour.ignoreWrites = true;
    const h = device(createModbusDriver(), s.port, { tags });
    await h.driver.start();
    const tag = (n: string) => h.device.tags.find((t) => t.name === n) as never;
    await expect(h.driver.write(tag('f32'), 2.5, signal())).rejects.toMatchObject({ code: 'FG_ERR_WRITE_FAILED', message: expect.stringMatching(/read-back/) });
    await h.driver.write(tag('u16'), 3, signal()); // no read-back configured: the ack is trusted
  });
});

