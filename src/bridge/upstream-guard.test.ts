// RabbitMQ's ways of saying no without saying it (issue 13): an MQTT 5 CONNECT closed without a
// CONNACK (RabbitMQ 3.10) -> 3.1.1 at once with one log line; a command on `spBv1/0/...` ->
// one line with the fix. (The refused-topic backoff is tested against RabbitMQ itself,
// test/rabbitmq-confirm.interop.test.ts.)
import net, { type AddressInfo, type Socket } from 'node:net';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { AedesUpstream } from '../../test/helpers/aedes-upstream.js';
import { startBridge, until } from '../../test/helpers/bridge-fixture.js';
import { MemoryOutbox } from '../store/memory-outbox.js';
import { captureLogger } from '../../test/helpers/log-capture.js';
import { useCleanups } from '../../test/helpers/cleanups.js';

const cleanups = useCleanups({ ignoreErrors: true });

/** What RabbitMQ 3.10 does: 3.1.1 served, an MQTT 5 CONNECT closed without a CONNACK. */
async function rabbitLike(): Promise<{ url: string; versions: number[]; close: () => Promise<void> }> {
  const versions: number[] = [];
  const sockets = new Set<Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('data', (d: Buffer) => {
      // Protocol level: byte after the fixed header, the length-prefixed "MQTT" and nothing else.
      const level = d[d.indexOf('MQTT') + 4] as number;
      versions.push(level);
      if (level !== 4) return void socket.destroy();
      socket.write(mqttPacket.generate({ cmd: 'connack', returnCode: 0, sessionPresent: false } as mqttPacket.IConnackPacket));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    versions,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('upstream guard', () => {
  it('falls back to MQTT 3.1.1 at once when an MQTT 5 CONNECT is closed without CONNACK, says so once, and stays on 3.1.1', async () => {
    const broker = await rabbitLike();
    cleanups.push(() => broker.close());
    const { lines, logger } = captureLogger('info');
    const outbox = new MemoryOutbox({ maxBytes: 1 << 20, maxAgeMs: 3_600_000, onFull: 'reject-new' });
    const session = { url: broker.url, protocolVersion: 5 as const, clientId: 'fg-guard', keepaliveMs: 30_000, connectTimeoutMs: 5_000 };
    const bridge = startBridge(cleanups, outbox, broker.url, { logger, session, backoff: { minMs: 2_000, maxMs: 2_000, jitter: 0 } });
    // No backoff step in between: connected well before the 2 s minimum delay.
    await until(() => bridge.isConnected, 1500, "connected over 3.1.1");
    bridge.reconnectNow();
    await until(() => broker.versions.length >= 4, 15_000, 'a second session');
    await until(() => bridge.isConnected, 3000, 'connected again');
    expect(broker.versions).toEqual([5, 5, 4, 4]);
    const fallback = lines.filter((l) => l.code === 'FG_ERR_UPSTREAM_PROTOCOL');
    expect(fallback).toHaveLength(1);
    expect(String(fallback[0]?.msg)).toContain('upstream.protocolVersion: 4');
  });

  it('logs once, with the fix, a command on spBv1/0/... (RabbitMQ without mqtt.sparkplug)', async () => {
    const broker = await AedesUpstream.started(cleanups);
    const { lines, logger } = captureLogger('info');
    const outbox = new MemoryOutbox({ maxBytes: 1 << 20, maxAgeMs: 3_600_000, onFull: 'reject-new' });
    const got: string[] = [];
    const bridge = startBridge(cleanups, outbox, broker.url, { logger, subscriptions: [{ filter: 'spBv1/0/#', qos: 1 }], onMessage: (t) => got.push(t) });
    await until(() => broker.subscribed.has('spBv1/0/#'), 5000, 'subscribed');
    const central = mqtt.connect(broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
    cleanups.push(async () => void central.end(true));
    await new Promise<void>((r) => central.once('connect', () => r()));
    central.publish('spBv1/0/g/NCMD/node', 'x', { qos: 1 });
    central.publish('spBv1/0/g/NCMD/node', 'x', { qos: 1 });
    await until(() => got.length === 2, 5000, 'both delivered');
    const hint = lines.filter((l) => l.code === 'FG_ERR_UPSTREAM_SPARKPLUG_TOPIC');
    expect(hint).toHaveLength(1);
    expect(String(hint[0]?.msg)).toContain('mqtt.sparkplug = true');
  });
});
