// Commands from the upstream: the subscriptions renewed on every session, and the hand-off of
// what arrives on them to the gateway's handler.
import type { IPublishPacket, MqttClient } from 'mqtt';
import type { Logger } from '../observe/logger.js';
import { errorMessage } from '../errors.js';
import type { BridgeOptions } from './bridge-options.js';

export function subscribeCommands(client: MqttClient, o: BridgeOptions, protocolVersion: 4 | 5, log: Logger): void {
  for (const s of o.subscriptions ?? []) {
    // No Local on MQTT 5 [MQTT-3.8.3-3]: what we forward up never comes back to us.
    const opts = protocolVersion === 5 ? { qos: s.qos, nl: true } : { qos: s.qos };
    client.subscribe(s.filter, opts, (e) => {
      if (e) log.warn({ filter: s.filter, err: errorMessage(e) }, 'upstream subscribe failed');
    });
  }
}

export function deliverCommand(o: BridgeOptions, topic: string, payload: Buffer, packet: IPublishPacket, log: Logger): void {
  try {
    o.onMessage?.(topic, payload, packet.properties?.userProperties);
  } catch (e) {
    // A failing command handler must not take the upstream session (or the process) down.
    log.error({ topic, err: errorMessage(e) }, 'upstream message handler failed');
  }
}
