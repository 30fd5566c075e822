// The host's MQTT session (issue 14, item 1): Sparkplug B 3.0 primary host STATE, the
// subscriptions, and PUBACKs held until the samples they carry are committed.
//
// mqtt.js sends a QoS 1 PUBACK as soon as the message handler returns, and waits for that
// send before it parses the next packet; deferring the handler would serialise ingestion to one
// message per commit. Instead the PUBACK packet itself is held (its callback runs at once so
// parsing goes on) and written after the batch commits. A host killed before the commit never
// acknowledged those messages: with a persistent session the broker redelivers them.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Packet } from 'mqtt-packet';
import type { HostConfig } from '../config/sections/host.js';
import { buildClientOptions } from '../bridge/upstream-options.js';
import type { Logger } from '../observe/logger.js';
import { stateTopic } from '../sparkplug/topics.js';

export interface HeldAck {
  generation: number;
  packet: Packet;
}

export interface SessionEvents {
  message(topic: string, payload: Buffer, userProperties: Record<string, string | string[]> | undefined): void;
  /** A PUBACK for the message just delivered; send it with `release()` after the commit. */
  heldAck(ack: HeldAck): void;
  /** After the STATE birth of each connection. */
  connected(): void;
}

type SendPacket = (packet: Packet, cb?: (err?: Error) => void, ...rest: unknown[]) => void;

export class HostSession {
  readonly client: MqttClient;
  private generation = 0;
  private birthTimestamp = Date.now();
  private readonly sendPacket: SendPacket;
  connected = false;
  connects = 0;

  constructor(
    private readonly cfg: HostConfig,
    private readonly events: SessionEvents,
    private readonly logger: Logger,
  ) {
    const b = cfg.broker;
    const opts: IClientOptions = {
      ...buildClientOptions({
        url: b.url,
        protocolVersion: b.protocolVersion,
        clientId: b.clientId ?? `fieldgate-host-${cfg.id}`,
        username: b.username,
        password: b.password,
        tls: b.tls,
        keepaliveMs: b.keepalive,
        connectTimeoutMs: 10_000,
      }),
      clean: !b.persistentSession,
      reconnectPeriod: 1000,
      will: this.will(),
    };
    // A persistent session survives the host's restarts for a week [MQTT-3.1.2-23].
    if (b.protocolVersion === 5) opts.properties = { sessionExpiryInterval: b.persistentSession ? 7 * 24 * 3600 : 0 };
    this.client = mqtt.connect(b.url, opts);
    const c = this.client as unknown as { _sendPacket: SendPacket };
    this.sendPacket = c._sendPacket.bind(this.client);
    c._sendPacket = (packet, cb, ...rest) => {
      if (packet.cmd === 'puback') {
        this.events.heldAck({ generation: this.generation, packet });
        cb?.();
        return;
      }
      this.sendPacket(packet, cb, ...rest);
    };
    this.client.on('connect', (connack) => void this.onConnect(connack.sessionPresent));
    this.client.on('message', (topic, payload, packet) => this.events.message(topic, payload, packet.properties?.userProperties));
    this.client.on('close', () => {
      if (this.connected) this.logger.warn({ broker: b.url }, 'host: central broker connection lost');
      this.connected = false;
      // Each session has its own STATE timestamp: the death must carry the birth's
      // [tck-id-host-topic-phid-death-payload-timestamp...], so the Will is rebuilt for the next.
      this.birthTimestamp = Date.now();
      this.client.options.will = this.will();
    });
    this.client.on('error', (e) => this.logger.warn({ code: 'FG_ERR_UPSTREAM_CONNECT', err: e.message, broker: b.url }, 'host: central broker error'));
  }

  private statePayload(online: boolean): Buffer {
    return Buffer.from(JSON.stringify({ online, timestamp: this.birthTimestamp }));
  }

  private will(): NonNullable<IClientOptions['will']> {
    return { topic: stateTopic(this.cfg.id), payload: this.statePayload(false), qos: 1, retain: true };
  }

  private async onConnect(sessionPresent: boolean): Promise<void> {
    // Nagle held each small PUBACK and confirmation until the broker's delayed ACK (up to
    // 40 ms on Linux): most of the device-to-stored latency at low rates (issue 14 bench).
    (this.client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
    this.generation += 1;
    this.connects += 1;
    this.connected = true;
    const filters = this.cfg.groups.length === 0 ? ['spBv1.0/#'] : this.cfg.groups.map((g) => `spBv1.0/${g}/#`);
    this.logger.info({ broker: this.cfg.broker.url, sessionPresent, filters }, 'host: connected to the central broker');
    try {
      // Subscribe first, then announce ourselves [tck-id-host-topic-phid-birth-sub-required].
      await this.client.subscribeAsync(filters.map((f) => ({ topic: f, qos: 1 as const })).reduce<Record<string, { qos: 1 }>>((o, s) => ({ ...o, [s.topic]: { qos: s.qos } }), {}));
      await this.client.publishAsync(stateTopic(this.cfg.id), this.statePayload(true), { qos: 1, retain: true });
      this.events.connected();
    } catch (e) {
      this.logger.warn({ code: 'FG_ERR_UPSTREAM_CONNECT', err: (e as Error).message }, 'host: subscribe or STATE birth failed');
    }
  }

  /** Sends the PUBACKs of committed messages; acks of an earlier connection are void. */
  release(acks: readonly HeldAck[]): void {
    for (const a of acks) if (a.generation === this.generation && this.connected) this.sendPacket(a.packet);
  }

  publish(topic: string, payload: Buffer | string, opts: { qos: 0 | 1; retain?: boolean }): void {
    if (!this.connected) return;
    this.client.publish(topic, payload, { qos: opts.qos, retain: opts.retain ?? false });
  }

  /** A clean stop publishes the STATE death itself (the Will is only for a lost connection). */
  async stop(): Promise<void> {
    if (this.connected) {
      await Promise.race([this.client.publishAsync(stateTopic(this.cfg.id), this.statePayload(false), { qos: 1, retain: true }).catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
    }
    await new Promise<void>((r) => this.client.end(false, {}, () => r()));
  }
}
