// `fieldgate watch` (issue 20): DATA metrics print with name, quality and datatype resolved
// from the births; joining late, an unknown alias says to use --rebirth, and --rebirth gets
// the names. A real gateway (simulator device, local broker on loopback) in this process.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { watch } from '../src/watch.js';
import { until } from './helpers/until.js';
import { siteYaml, simulatedPump } from './helpers/site-yaml.js';
import { useCleanups } from './helpers/cleanups.js';
import { runGateway } from './helpers/gateway.js';

const cleanups = useCleanups({ ignoreErrors: true });

type Line = { topic: string; type?: string; metrics?: Array<Record<string, unknown>> };

describe('fieldgate watch (issue 20)', () => {
  it('prints quality and datatype, resolves aliases, and says to use --rebirth for unknown ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-watch-'));
    const gw = await runGateway(siteYaml({ store: `{ path: ${join(dir, 'fg.db')} }`, devices: simulatedPump('{ name: level, scale: 0.1, decimals: 1, signal: { kind: counter, start: 539 } }') }), dir, cleanups);
    const url = `mqtt://127.0.0.1:${gw.localBroker?.addresses()[0]?.port ?? 0}`;
    await new Promise((r) => setTimeout(r, 300)); // the births are out before anyone watches

    const late: Line[] = [];
    const errors: string[] = [];
    const w1 = watch({ url, topic: 'spBv1.0/#', rebirth: false, write: (l) => late.push(JSON.parse(l) as Line), onError: (m) => errors.push(m) });
    cleanups.push(() => w1.stop());
    await until(() => late.some((l) => l.type === 'DDATA') && errors.length > 0, 10_000, 'late DATA');
    const unknown = late.find((l) => l.type === 'DDATA')?.metrics?.[0];
    expect(unknown).toMatchObject({ unknownAlias: true });
    expect(unknown).not.toHaveProperty('name');
    expect(errors[0]).toMatch(/alias \d+ of plant\/edge-1 is unknown: .*fieldgate watch --rebirth/);
    expect(errors, errors.join("\n")).toHaveLength(1); // once per node, not per message

    const lines: Line[] = [];
    const w2 = watch({ url, topic: 'spBv1.0/#', rebirth: true, write: (l) => lines.push(JSON.parse(l) as Line), onError: (m) => errors.push(m) });
    cleanups.push(() => w2.stop());
    const dataAfterBirth = (): Array<Record<string, unknown>> => {
      const b = lines.findIndex((l) => l.type === 'DBIRTH');
      return b < 0 ? [] : lines.slice(b + 1).filter((l) => l.type === 'DDATA').flatMap((l) => l.metrics ?? []);
    };
    await until(() => dataAfterBirth().some((m) => m.name === 'count') && dataAfterBirth().some((m) => m.name === 'level'), 10_000, 'named DATA');
    const birth = lines.find((l) => l.type === 'DBIRTH')?.metrics ?? [];
    expect(birth.find((m) => m.name === 'count')).toMatchObject({ quality: 'GOOD', datatype: 'UInt32' });
    expect(dataAfterBirth().find((m) => m.name === 'count')).toMatchObject({ quality: 'GOOD', datatype: 'UInt32' });
    const level = dataAfterBirth().find((m) => m.name === 'level');
    expect(level).toMatchObject({ quality: 'GOOD', datatype: 'Double' });
    // decimals: 1 after scale 0.1: no floating-point tail in what the site sees.
    expect(String(level?.value)).toMatch(/^\d+(\.\d)?$/);
    expect(errors).toHaveLength(1);
  });
});
