// Config-level behaviour: example.yaml parses, and every testcases/<case> folder gives exactly
// its expected plan (expected.out) or its expected errors (init.err), Telegraf style.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfigText } from '../../src/config/load.js';
import { configJsonSchema } from '../../src/config/schema.js';
import { describePlan } from './describe-plan.js';
import { createModbusDriver } from './index.js';
import type { ModbusDevice } from './schema.js';
import { runTestcases } from '../../test/helpers/testcases.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const factory = createModbusDriver();
// Set UPDATE_TESTCASES=1 to write the outputs of new cases; review them by hand before commit.
const update = process.env['UPDATE_TESTCASES'] === '1';

function run(text: string): string {
  try {
    const cfg = parseConfigText(text, 'config.yaml', [factory]);
    return cfg.devices.map((d) => describePlan(d as unknown as ModbusDevice)).join('\n') + '\n';
  } catch (e) {
    if (e instanceof ConfigError) return `${e.message}\n`;
    throw e;
  }
}

const CASES = join(here, 'testcases');

describe('testcases', () => {
  it('has success and failure cases', () => {
    const cases = readdirSync(CASES);
    expect(cases.filter((c) => existsSync(join(CASES, c, 'expected.out'))).length).toBeGreaterThanOrEqual(4);
    expect(cases.filter((c) => existsSync(join(CASES, c, 'init.err'))).length).toBeGreaterThanOrEqual(6);
  });
});

/** The whole plan or the whole error text, compared exactly (a Modbus case names every request). */
function checkCase(caseDir: string): void {
  const text = readFileSync(join(caseDir, 'config.yaml'), 'utf8');
  const errFile = join(caseDir, 'init.err');
  const outFile = join(caseDir, 'expected.out');
  const wantsError = existsSync(errFile);
  const got = run(text);
  if (update) writeFileSync(wantsError ? errFile : outFile, got);
  const want = readFileSync(wantsError ? errFile : outFile, 'utf8');
  expect(got).toBe(want);
  // A failure case must fail and a success case must succeed: the files cannot swap roles.
  expect(/^config\.yaml:\d+:\d+: /.test(got)).toBe(wantsError);
}

runTestcases('testcases', CASES, { run: checkCase, errors: checkCase });

describe('example.yaml', () => {
  it('parses with the modbus driver and shares one line between the two meters', () => {
    const cfg = parseConfigText(readFileSync(join(here, 'example.yaml'), 'utf8'), 'example.yaml', [factory]);
    expect(cfg.devices.map((d) => d.name)).toEqual(['press-02', 'meter-1', 'meter-2', 'drive-7']);
    const plan = cfg.devices.map((d) => describePlan(d as unknown as ModbusDevice)).join('\n');
    expect(plan).toContain('device meter-1 (rtu:/dev/ttyUSB0 unit 1)');
    expect(plan).toContain('device meter-2 (rtu:/dev/ttyUSB0 unit 2)');
    expect(plan).not.toContain('unreadable');
  });

  it('appears in the JSON Schema with the modbus tag fields', () => {
    const schema = JSON.stringify(configJsonSchema([factory]));
    for (const key of ['byteOrder', 'unitId', 'maxRegistersPerRequest', 'rtu-over-tcp', 'readBack']) expect(schema).toContain(key);
  });
});
