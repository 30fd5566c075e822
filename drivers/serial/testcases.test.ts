// Telegraf-style regression cases: testcases/<case>/config.yaml with either init.err (config
// errors the loader must report) or input.txt (bytes the device sends; JSON-escaped lines, one
// chunk per line, so control bytes stay readable) and expected.out (what the driver makes of them).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { runTestcases } from '../../test/helpers/testcases.js';
import { builtinDrivers } from '../all.js';
import { loadConfigFile } from '../../src/config/load.js';
import { ManualClock } from '../../src/shared/clock.js';
import type { DeviceConfig } from '../../src/config/sections/devices.js';
import { Framer } from './framing.js';
import { FrameParser, type SerialTagExtra } from './parse.js';
import type { Connection } from './schema.js';

const CASES = join(fileURLToPath(new URL('.', import.meta.url)), 'testcases');

function show(v: unknown): string {
  return v instanceof Uint8Array ? `0x${Buffer.from(v).toString('hex')}` : String(v);
}

async function replay(device: DeviceConfig<Connection, SerialTagExtra>, chunks: string[]): Promise<string[]> {
  const c = device.connection;
  const clock = new ManualClock();
  const parser = new FrameParser(c.parse, c.checksum, device.tags, c.accept);
  const out: string[] = [];
  const framer = new Framer({ rule: c.framing, maxLength: c.framing.maxLength, interByteTimeout: c.framing.interByteTimeout, encoding: c.encoding }, clock, {
    frame: (f) => {
      const text = f.toString(c.encoding);
      if (!parser.accepts(text)) return void out.push('ignored');
      const r = parser.parse(text);
      if (!r.ok) return void out.push(`rejected ${r.reason}: ${r.error}`);
      out.push(r.readings.map((x) => `${x.tag}=${show(x.value)} ${x.quality}${x.error !== undefined ? ` (${x.error})` : ''}`).join(' | '));
    },
    discard: (reason, bytes) => out.push(`discarded ${reason} ${bytes} bytes`),
  });
  for (const chunk of chunks) {
    // A line "@wait 100" lets the clock run (inter-byte timeouts) between chunks.
    const wait = /^@wait (\d+)$/.exec(chunk);
    if (wait !== null) await clock.advance(Number(wait[1]));
    else framer.push(Buffer.from(JSON.parse(chunk) as string, c.encoding));
  }
  framer.dispose();
  return out;
}

runTestcases('serial testcases', CASES, {
  run: async (dir) => {
    const cfg = loadConfigFile(join(dir, 'config.yaml'), builtinDrivers);
    const device = cfg.devices[0] as unknown as DeviceConfig<Connection, SerialTagExtra>;
    const chunks = readFileSync(join(dir, 'input.txt'), 'utf8').split('\n').filter((l) => l !== '');
    const expected = readFileSync(join(dir, 'expected.out'), 'utf8').trim().split('\n');
    expect(await replay(device, chunks)).toEqual(expected);
  },
});
