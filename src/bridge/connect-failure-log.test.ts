// What the journal shows while the upstream is unreachable: one line per failed attempt, and
// identical failures in a row held back to one line per interval with a count.
import net from 'node:net';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../observe/logger.js';
import { MemoryOutbox } from '../store/memory-outbox.js';
import { makeBridge } from '../../test/helpers/bridge-fixture.js';
import { useCleanups } from '../../test/helpers/cleanups.js';
import { freePort, listenLoopback } from '../../test/helpers/ports.js';
import type { Bridge } from './bridge.js';

interface Line { time: number; msg: string; code?: string; err?: string; suppressed?: number; failedAttempts?: number }

const cleanups = useCleanups();

/** A "broker" that accepts every connection and closes it before any CONNACK; counts them. */
async function acceptAndClose(): Promise<{ url: string; accepted: () => number }> {
  let accepted = 0;
  const server = net.createServer((s) => {
    accepted += 1;
    s.destroy();
  });
  const port = await listenLoopback(server);
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `mqtt://127.0.0.1:${port}`, accepted: () => accepted };
}

/** Runs a bridge against `url` for `ms` and returns its parsed log lines. */
async function failFor(url: string, ms: number, failureLogIntervalMs?: number): Promise<Line[]> {
  const lines: Line[] = [];
  const logger = createLogger({ destination: new Writable({ write(c: Buffer, _e, cb) { lines.push(JSON.parse(c.toString()) as Line); cb(); } }) });
  const outbox = new MemoryOutbox({ maxBytes: 1 << 20, maxAgeMs: 86_400_000, onFull: 'drop-oldest' });
  const bridge: Bridge = makeBridge(outbox, url, {
    logger,
    backoff: { minMs: 60, maxMs: 60, jitter: 0 },
    ...(failureLogIntervalMs !== undefined ? { failureLogIntervalMs } : {}),
  });
  bridge.start();
  await new Promise((r) => setTimeout(r, ms));
  await bridge.stop();
  return lines.filter((l) => l.code === 'FG_ERR_UPSTREAM_CONNECT');
}

describe('upstream connect failures in the log', () => {
  for (const scheme of ['mqtt', 'mqtts'] as const) {
    it(`logs one line per failed attempt on a closed port (${scheme}://)`, async () => {
      const port = await freePort(); // released at once: nothing listens there
      const lines = await failFor(`${scheme}://127.0.0.1:${port}`, 700, 0);
      // 60 ms apart: about 10 attempts in 700 ms.
      expect(lines.length).toBeGreaterThanOrEqual(4);
      expect(lines.every((l) => l.msg === 'upstream error' && /ECONNREFUSED/.test(l.err ?? ''))).toBe(true);
      // Each line is its own attempt: never two within one backoff delay.
      for (let i = 1; i < lines.length; i++) expect(lines[i]!.time - lines[i - 1]!.time).toBeGreaterThanOrEqual(40);
      expect(lines.map((l) => l.failedAttempts)).toEqual(lines.map((_, i) => i + 1));
    });
  }

  it('logs an attempt the broker accepts and then closes without a CONNACK', async () => {
    const server = await acceptAndClose();
    const lines = await failFor(server.url, 500, 0);
    const accepted = server.accepted();
    expect(accepted).toBeGreaterThanOrEqual(3);
    // One line per accepted connection; the last may still be in progress at stop().
    expect(lines.length).toBeGreaterThanOrEqual(accepted - 1);
    expect(lines.length).toBeLessThanOrEqual(accepted);
    // Usually a clean close; on a busy machine the client may see the reset as an error first.
    for (const l of lines) expect(l.err).toMatch(/closed before CONNACK|ECONNRESET/);
    expect(lines.some((l) => l.err === 'connection closed before CONNACK')).toBe(true);
  });

  it('by default logs the first of a run of identical failures only', async () => {
    const port = await freePort(); // released at once: nothing listens there
    const lines = await failFor(`mqtt://127.0.0.1:${port}`, 700);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'upstream error', failedAttempts: 1 });
    expect(lines[0]!.suppressed).toBeUndefined();
  });

  it('summarizes held-back repeats once per interval with their count', async () => {
    const server = await acceptAndClose();
    const lines = await failFor(server.url, 1000, 300);
    const accepted = server.accepted();
    expect(accepted).toBeGreaterThanOrEqual(8);
    // About one line per 300 ms instead of one per 60 ms attempt.
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.length).toBeLessThanOrEqual(5);
    expect(lines[0]!.suppressed).toBeUndefined();
    for (const l of lines.slice(1)) expect(l.suppressed).toBeGreaterThanOrEqual(1);
    // Every attempt is accounted for: logged or counted in a later line (the tail may be held).
    const accounted = lines.length + lines.reduce((a, l) => a + (l.suppressed ?? 0), 0);
    expect(accounted).toBeLessThanOrEqual(accepted);
    expect(accounted).toBeGreaterThan(accepted - 6);
    expect(lines.at(-1)!.failedAttempts).toBe(accounted);
  });
});
