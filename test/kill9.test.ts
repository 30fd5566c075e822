// Done-when "kill -9": the gateway is killed at random moments during ingest and during
// replay, at least 20 times: no accepted record is lost; duplicates occur only within the
// in-flight window and the deduper removes all of them. (100 kills against mosquitto in
// test/mosquitto.interop.test.ts.) In each upstream.confirm mode (confirm-modes.ts); host with a
// central consumer that commits and acks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useScratchDir } from './helpers/cleanups.js';
import { AedesUpstream } from './helpers/aedes-upstream.js';
import { runKillScenario } from './helpers/kill-scenario.js';
import { confirmModes } from './helpers/confirm-modes.js';
import { HostAckConsumer } from './helpers/host-ack-consumer.js';
import { removeChildBuild } from './helpers/build-child.js';

const KILLS = 20;
const INFLIGHT = 20;
const scratch = useScratchDir('fg-kill9-');

let upstream: AedesUpstream;

beforeAll(async () => {
  upstream = await AedesUpstream.start();
});

afterAll(async () => {
  await upstream.close();
  removeChildBuild();
});

describe.each(confirmModes())('kill -9 during ingest and replay, confirm: %s', (mode) => {
  it(`loses no accepted record across ${KILLS} kills; duplicates stay within the window`, async () => {
    const consumer = mode === 'host' ? new HostAckConsumer(upstream.url, { protocolVersion: 4 }) : undefined;
    await consumer?.ready;
    const start = upstream.received.length;
    const out = await runKillScenario({
      confirm: mode,
      kills: KILLS,
      inflight: INFLIGHT,
      db: scratch(`store-${mode}.db`),
      liveUrl: upstream.url,
      // Port 1 on loopback: nothing listens, connects are refused at once.
      deadUrl: 'mqtt://127.0.0.1:1',
      // Data only (the host consumer's acks use the same broker), from this mode's run on.
      received: () => upstream.received.slice(start).filter((r) => r.topic.startsWith('spBv1.0/')),
    }).finally(() => consumer?.stop());
    expect(out.accepted.size).toBeGreaterThan(KILLS * 10);
    expect(out.lost).toEqual([]);
    expect(out.mismatched).toBe(0);
    expect(out.foreignEpochs).toBe(0);
    // Each replaying run (every other kill, plus the final drain) resends at most the window.
    // host: a restart sends again everything the consumer had not acked (its commit lag), not
    // just the window.
    if (mode !== 'host') expect(out.duplicates).toBeLessThanOrEqual((KILLS / 2 + 1) * INFLIGHT);
    expect(out.dedupDropped).toBe(out.duplicates);
    console.info(`kill -9 x${KILLS} (confirm ${mode}): ${out.accepted.size} accepted, ${out.uniqueReceived} unique received, ${out.duplicates} duplicates (window ${INFLIGHT})`);
  }, 120_000);
});
