// Done-when "Budget": an outage longer than the budget allows applies the policy exactly; the
// drop counter equals what was dropped; the file stays within the budget. In each
// upstream.confirm mode (confirm-modes.ts), with QoS 0 samples as Sparkplug DATA is produced.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, STORE_FIXED_BYTES, type Store } from '../src/store/open-store.js';
import { recordBytes, type OnFull } from '../src/store/outbox.js';
import { Deduper } from '../src/bridge/deduper.js';
import type { Bridge } from '../src/bridge/bridge.js';
import { AedesUpstream } from './helpers/aedes-upstream.js';
import { makeBridge, until } from './helpers/bridge-fixture.js';
import { confirmModes, confirmOptions, type ConfirmMode } from './helpers/confirm-modes.js';
import { HostAckConsumer } from './helpers/host-ack-consumer.js';
import { sample } from './helpers/records.js';

let dir: string;
let store: Store | undefined;
let upstream: AedesUpstream;
let bridge: Bridge | undefined;
let consumer: HostAckConsumer | undefined;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fg-budget-'));
  upstream = await AedesUpstream.start();
});

afterEach(async () => {
  await bridge?.stop();
  await consumer?.stop();
  consumer = undefined;
  bridge = undefined;
  await upstream.close();
  store?.close();
  rmSync(dir, { recursive: true, force: true });
});

const TOTAL = 3000;
const MAX_BYTES = 64 * 1024;

async function outage(onFull: OnFull, mode: ConfirmMode): Promise<{ delivered: number[]; dropped: { budget: number; rejected: number }; fileBytes: number }> {
  const path = join(dir, `${onFull}.db`);
  store = openStore({ path, maxBytes: MAX_BYTES, maxAgeMs: 86_400_000, onFull, synchronous: 'normal' });
  await upstream.stop();
  // host: a central consumer that commits and acks; with gaps (dropped records) its ack
  // carries the committed ranges above them (`above`).
  if (mode === 'host') consumer = new HostAckConsumer(upstream.url, { protocolVersion: 4 });
  bridge = makeBridge(store.outbox, upstream.url, confirmOptions(mode));
  bridge.start();
  for (let i = 1; i <= TOTAL; i += 100) store.outbox.append(Array.from({ length: 100 }, (_, j) => sample(`d${(i + j) % 3}`, i + j, 0)));
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  const fileBytes = statSync(path).size;
  expect(store.outbox.stats().bytes).toBeLessThanOrEqual(MAX_BYTES - STORE_FIXED_BYTES);
  await upstream.restart();
  await until(() => store?.outbox.stats().depth === 0, 10_000, 'drained');
  const d = new Deduper();
  const delivered = upstream.received.filter((r) => r.topic.startsWith('spBv1.0/') && r.key !== undefined && d.accept(r.key)).map((r) => r.key?.seq ?? 0);
  const { budget, rejected } = store.outbox.stats().dropped;
  return { delivered, dropped: { budget, rejected }, fileBytes };
}

// The policy written out as plainly as possible: what each one must keep, given the sizes.
function model(onFull: OnFull): number[] {
  const held: Array<{ seq: number; bytes: number }> = [];
  let bytes = 0;
  let seq = 0;
  for (let n = 1; n <= TOTAL; n++) {
    const b = recordBytes(sample(`d${n % 3}`, n, 0));
    if (bytes + b > MAX_BYTES - STORE_FIXED_BYTES) {
      if (onFull === 'reject-new') continue;
      while (bytes + b > MAX_BYTES - STORE_FIXED_BYTES) bytes -= held.shift()?.bytes ?? 0;
    }
    held.push({ seq: ++seq, bytes: b });
    bytes += b;
  }
  return held.map((h) => h.seq);
}

describe.each(confirmModes())('an outage longer than the budget, confirm: %s', (mode) => {
  it('drop-oldest: delivers exactly the newest records that fit, counts every other one', async () => {
    const { delivered, dropped, fileBytes } = await outage('drop-oldest', mode);
    expect(delivered).toEqual(model('drop-oldest'));
    expect(delivered.length).toBeGreaterThan(300);
    expect(dropped).toEqual({ budget: TOTAL - delivered.length, rejected: 0 });
    expect(fileBytes).toBeLessThanOrEqual(MAX_BYTES);
  });

  it('reject-new: delivers exactly the oldest records that fit, counts every refused one', async () => {
    const { delivered, dropped, fileBytes } = await outage('reject-new', mode);
    expect(delivered).toEqual(model('reject-new'));
    expect(delivered[0]).toBe(1);
    expect(dropped).toEqual({ budget: 0, rejected: TOTAL - delivered.length });
    expect(fileBytes).toBeLessThanOrEqual(MAX_BYTES);
  });
});
