// The host's MQTT session (issue 14, item 1): Sparkplug B 3.0 primary host STATE, the
// subscriptions, and PUBACKs held until the samples they carry are committed.
//
// The PUBACK of each QoS 1 message is held (its packet id and the connection it came on) and
// written after the batch that stored it commits. A host killed before the commit never
// acknowledged those messages: with a persistent session the broker redelivers them. The wire
// work is src/host/mqtt-link.ts (lean: mqtt.js cost ~0.2 µs a sample here).
import type { HostConfig } from '../config/sections/host.js';
import { buildClientOptions } from '../bridge/upstream-options.js';
import type { Logger } from '../observe/logger.js';
import { stateTopic } from '../sparkplug/topics.js';
import { MqttLink } from './mqtt-link.js';

export interface HeldAck {
  generation: number;
  messageId: number;
}

export interface SessionEvents {
  message(topic: string, payload: Buffer, userProperties: Record<string, string | string[]> | undefined): void;
  /** A PUBACK for the message just delivered; send it with `release()` after the commit. */
  heldAck(ack: HeldAck): void;
  /** After the STATE birth of each connection. */
  connected(): void;
}

/** The largest packet the host takes from the broker (announced on MQTT 5; a bigger one ends the connection). */
export const HOST_MAX_PACKET_BYTES = 16 * 1024 * 1024;

export class HostSession {
  readonly link: MqttLink;
  private birthTimestamp = Date.now();
  connected = false;
  connects = 0;

  constructor(
    private readonly cfg: HostConfig,
    private readonly events: SessionEvents,
    private readonly logger: Logger,
  ) {
    const b = cfg.broker;
    // Reads the TLS files and applies the same defaults as the gateway's upstream.
    const o = buildClientOptions({
      url: b.url,
      protocolVersion: b.protocolVersion,
      clientId: b.clientId ?? `fieldgate-host-${cfg.id}`,
      username: b.username,
      password: b.password,
      tls: b.tls,
      keepaliveMs: b.keepalive,
      connectTimeoutMs: 10_000,
    });
    const pem = (x: unknown): Buffer | undefined => (Buffer.isBuffer(x) ? x : undefined);
    this.link = new MqttLink(
      {
        url: b.url,
        protocolVersion: b.protocolVersion,
        clientId: o.clientId as string,
        username: b.username,
        password: b.password,
        tls: b.tls === undefined ? undefined : { ca: pem(o.ca), cert: pem(o.cert), key: pem(o.key), rejectUnauthorized: b.tls.rejectUnauthorized, servername: b.tls.servername },
        keepaliveSec: o.keepalive ?? 30,
        clean: !b.persistentSession,
        // A persistent session survives the host's restarts for a week [MQTT-3.1.2-23].
        sessionExpirySec: b.persistentSession ? 7 * 24 * 3600 : 0,
        connectTimeoutMs: 10_000,
        maxPacketSize: HOST_MAX_PACKET_BYTES,
        will: () => this.will(),
      },
      {
        connect: (sessionPresent) => void this.onConnect(sessionPresent),
        message: (topic, payload, props, messageId) => {
          this.events.message(topic, payload, props);
          if (messageId !== undefined) this.events.heldAck({ generation: this.link.generation, messageId });
        },
        close: () => {
          if (this.connected) this.logger.warn({ broker: b.url }, 'host: central broker connection lost');
          this.connected = false;
          // Each session has its own STATE timestamp: the death must carry the birth's
          // [tck-id-host-topic-phid-death-payload-timestamp...], so the Will is rebuilt for the next.
          this.birthTimestamp = Date.now();
        },
        error: (code, message) => this.logger.warn({ code, err: message, broker: b.url }, 'host: central broker error'),
      },
    );
  }

  private statePayload(online: boolean): Buffer {
    return Buffer.from(JSON.stringify({ online, timestamp: this.birthTimestamp }));
  }

  private will(): { topic: string; payload: Buffer; qos: 1; retain: boolean } {
    return { topic: stateTopic(this.cfg.id), payload: this.statePayload(false), qos: 1, retain: true };
  }

  private async onConnect(sessionPresent: boolean): Promise<void> {
    this.connects += 1;
    this.connected = true;
    const filters = this.cfg.groups.length === 0 ? ['spBv1.0/#'] : this.cfg.groups.map((g) => `spBv1.0/${g}/#`);
    this.logger.info({ broker: this.cfg.broker.url, sessionPresent, filters }, 'host: connected to the central broker');
    try {
      // Subscribe first, then announce ourselves [tck-id-host-topic-phid-birth-sub-required].
      await this.link.subscribe(filters);
      await this.link.publish(stateTopic(this.cfg.id), this.statePayload(true), 1, true);
      this.events.connected();
    } catch (e) {
      this.logger.warn({ code: 'FG_ERR_UPSTREAM_CONNECT', err: (e as Error).message }, 'host: subscribe or STATE birth failed');
    }
  }

  /** Sends the PUBACKs of committed messages; acks of an earlier connection are void. */
  release(acks: readonly HeldAck[]): void {
    let ids: number[] = [];
    let generation = -1;
    for (const a of acks) {
      if (a.generation !== generation) {
        this.link.ack(generation, ids);
        ids = [];
        generation = a.generation;
      }
      ids.push(a.messageId);
    }
    this.link.ack(generation, ids);
  }

  /** What `fn` sends (a commit's PUBACKs and confirmations) leaves in one socket write. */
  corked(fn: () => void): void {
    this.link.corked(fn);
  }

  publish(topic: string, payload: Buffer | string, opts: { qos: 0 | 1; retain?: boolean }): void {
    if (!this.connected) return;
    // A confirmation or NCMD lost with the connection is sent again after the next connect.
    this.link.publish(topic, typeof payload === 'string' ? Buffer.from(payload) : payload, opts.qos, opts.retain ?? false).catch(() => undefined);
  }

  /** A clean stop publishes the STATE death itself (the Will is only for a lost connection). */
  async stop(): Promise<void> {
    if (this.connected) {
      await Promise.race([this.link.publish(stateTopic(this.cfg.id), this.statePayload(false), 1, true).catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
    }
    await this.link.end();
  }
}
