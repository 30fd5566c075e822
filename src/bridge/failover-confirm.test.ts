// Issue 17: a switch of server with records in flight, in every confirm mode, on two real aedes
// upstreams that hold their PUBACKs. Records sent on A and not confirmed there stay in the outbox
// through the switch and A's late acks; they are sent again on B, and only B's confirmation
// (PUBACK, fence PUBACK, or the consumer's ack on B) deletes them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { AedesUpstream } from '../../test/helpers/aedes-upstream.js';
import { makeBridge } from '../../test/helpers/bridge-fixture.js';
import { sample } from '../../test/helpers/records.js';
import { until } from '../../test/helpers/until.js';
import { openStore } from '../store/open-store.js';
import type { UpstreamSessionConfig } from './upstream-options.js';
import { useCleanups } from '../../test/helpers/cleanups.js';

const cleanups = useCleanups({ ignoreErrors: true });

const N = 30;
const session = (url: string): UpstreamSessionConfig => ({ url, protocolVersion: 4, clientId: `fg-failover-${process.pid}`, keepaliveMs: 30_000, connectTimeoutMs: 2000 });

describe('a switch of server keeps confirmation (issue 17)', () => {
  for (const confirm of ['qos1', 'fence', 'host'] as const) {
    it(`confirm: ${confirm}: nothing leaves the outbox on the strength of the server it left`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'fg-failover-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const a = await AedesUpstream.start();
      const b = await AedesUpstream.start();
      cleanups.push(() => a.close());
      cleanups.push(() => b.close());
      a.hold = true;
      b.hold = true;
      const store = openStore({ path: join(dir, 's.db'), maxBytes: 1 << 26, maxAgeMs: 86_400_000, onFull: 'drop-oldest' });
      cleanups.push(() => store.close());
      store.outbox.append(Array.from({ length: N }, (_, i) => sample('d', i + 1, 0)));
      const bridge = makeBridge(store.outbox, a.url, {
        session: session(a.url),
        servers: [session(a.url), session(b.url)],
        failover: { retries: 1, preferFirst: false, dwellMs: 60_000 },
        confirm,
        inflight: 50,
        ...(confirm === 'fence' ? { fenceTopic: 'fieldgate/fence/g/node' } : {}),
      });
      cleanups.push(() => bridge.stop());
      bridge.start();
      await until(() => a.heldCount >= N, 5000, 'records in flight on A, unconfirmed');
      // Leave A (as for an offline primary host there) with everything in flight.
      bridge.servers.hostOffline();
      bridge.reconnectNow();
      await until(() => bridge.isConnected && bridge.servers.current.index === 1 && b.heldCount >= N, 5000, 'sent again on B');
      a.release(); // A's acks, too late: its session is gone
      await new Promise((r) => setTimeout(r, 300));
      expect(store.outbox.stats().depth).toBe(N);
      b.hold = false;
      b.release();
      if (confirm === 'host') {
        await new Promise((r) => setTimeout(r, 300));
        expect(store.outbox.stats().depth).toBe(N); // B's PUBACKs free the window only
        const consumer = mqtt.connect(b.url, { clientId: 'central' });
        cleanups.push(() => void consumer.end(true));
        await new Promise<void>((r) => consumer.once('connect', () => r()));
        consumer.publish('fieldgate/ack/g/node', JSON.stringify({ epoch: store.outbox.epoch, through: N }), { qos: 1, retain: true });
      }
      await until(() => store.outbox.stats().depth === 0, 5000, 'confirmed on B');
      const onB = new Set(b.received.filter((r) => r.key !== undefined).map((r) => r.key?.seq));
      expect([...onB].sort((x, y) => (x ?? 0) - (y ?? 0))).toEqual(Array.from({ length: N }, (_, i) => i + 1));
      expect(bridge.servers.switchesTotal).toBe(1);
    }, 20_000);
  }
});
