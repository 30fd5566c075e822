// A Sparkplug capture for lifecycle tests: a whole gateway in this process publishing to aedes
// on loopback, every message the gateway sent decoded by the independent decoder, and the
// lifecycle rules of issue 12 checked over the whole stream.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { AedesUpstream } from '../helpers/aedes-upstream.js';
import { useCleanups } from '../helpers/cleanups.js';
import { decodeIndependently } from '../sparkplug/independent-decoder.js';
import { startGateway } from '../sparkplug/gateway-fixture.js';

export interface Captured {
  type: string;
  device: string | undefined;
  p: ReturnType<typeof decodeIndependently>;
}

export async function captureWorld(devices: string): Promise<{ upstream: AedesUpstream; messages: () => Captured[]; stop: () => Promise<void>; gateway: Awaited<ReturnType<typeof startGateway>>['gateway'] }> {
  const upstream = await AedesUpstream.start();
  const gw = await startGateway({ url: upstream.url, devices }).catch(async (e: unknown) => {
    await upstream.close();
    throw e;
  });
  return {
    upstream,
    gateway: gw.gateway,
    messages: () =>
      upstream.received
        .filter((r) => r.topic.startsWith('spBv1.0/') && !r.topic.includes('/STATE/'))
        .map((r) => {
          const parts = r.topic.split('/');
          return { type: parts[2] ?? '', device: parts[4], p: decodeIndependently(r.payload) };
        }),
    stop: async () => {
      await gw.stop();
      await upstream.close();
    },
  };
}

/** Metric values of a birth or data message by name (aliases resolved from the births). */
export function birthValues(m: Captured): Map<string, { value: unknown; isNull: boolean }> {
  const out = new Map<string, { value: unknown; isNull: boolean }>();
  for (const metric of m.p.metrics ?? []) {
    const name = String(metric.name);
    const value = metric.intValue ?? metric.longValue ?? metric.floatValue ?? metric.doubleValue ?? metric.booleanValue ?? metric.stringValue ?? metric.bytesValue;
    out.set(name, { value, isNull: metric.isNull === true });
  }
  return out;
}

/**
 * The lifecycle rules of issue 12 over a captured stream: no DDATA for a device without a
 * live DBIRTH (since the last NBIRTH), and no DDATA right after a DBIRTH that only repeats it.
 * Returns one line per violation.
 */
export function lifecycleViolations(messages: Captured[]): string[] {
  const problems: string[] = [];
  const born = new Set<string>();
  const birthOf = new Map<string, Captured>();
  messages.forEach((m, i) => {
    if (m.type === 'NBIRTH') born.clear();
    else if (m.type === 'DBIRTH' && m.device !== undefined) {
      born.add(m.device);
      birthOf.set(m.device, m);
    } else if (m.type === 'DDEATH' && m.device !== undefined) born.delete(m.device);
    else if (m.type === 'DDATA' && m.device !== undefined) {
      if (!born.has(m.device)) problems.push(`#${i} DDATA for ${m.device} without a live DBIRTH`);
      const birth = birthOf.get(m.device);
      const prev = messages[i - 1];
      if (birth !== undefined && prev === birth && repeats(birth, m)) problems.push(`#${i} DDATA for ${m.device} repeats its DBIRTH`);
    }
  });
  return problems;
}

function repeats(birth: Captured, data: Captured): boolean {
  const byAlias = new Map((birth.p.metrics ?? []).map((m) => [String(m.alias), m]));
  const metrics = data.p.metrics ?? [];
  return metrics.length > 0 && metrics.every((d) => {
    const b = byAlias.get(String(d.alias));
    return b !== undefined && String(b.timestamp) === String(d.timestamp) && JSON.stringify(valueOf(b)) === JSON.stringify(valueOf(d));
  });
}

function valueOf(m: Record<string, unknown>): unknown {
  const v = m.intValue ?? m.longValue ?? m.floatValue ?? m.doubleValue ?? m.booleanValue ?? m.stringValue ?? m.isNull;
  return typeof v === 'bigint' ? v.toString() : v;
}

/** DBIRTHs that carry a null metric: with every peer answering, a birth must carry values. */
export function nullBirths(messages: Captured[]): string[] {
  return messages.flatMap((m, i) =>
    m.type === 'DBIRTH' && (m.p.metrics ?? []).some((x) => x.isNull === true) ? [`#${i} DBIRTH for ${m.device} with null metrics`] : [],
  );
}

/**
 * A scratch dir for a lifecycle test file (removed after it) and the per-test cleanups, run
 * newest first after each test; a failing cleanup is ignored (the peer may be gone already).
 */
export function useLifecycleScratch(): { dir: string; cleanups: Array<() => unknown> } {
  const dir = mkdtempSync(join(tmpdir(), 'fg-lifecycle-'));
  const cleanups = useCleanups({ ignoreErrors: true });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return { dir, cleanups };
}

/** The DBIRTHs of one device in a capture. */
export const births = (ms: Captured[], device: string): Captured[] => ms.filter((m) => m.type === 'DBIRTH' && m.device === device);

/** The rules every capture keeps: lifecycle order and no DBIRTH of nulls (issue 12). */
export function expectCleanLifecycle(ms: Captured[]): void {
  expect(lifecycleViolations(ms)).toEqual([]);
  expect(nullBirths(ms)).toEqual([]);
}
