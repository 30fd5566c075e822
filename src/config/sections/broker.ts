import { z } from 'zod';
import { host, port } from '../fields.js';

// The local MQTT broker (issue: broker). The contract fixes `listeners[].host/port`; TLS,
// WebSocket, auth and limits extend this section.
export const listenerSchema = z.strictObject({
  host: host.default('127.0.0.1'),
  port: port.default(1883),
});

export const brokerSchema = z
  .strictObject({
    listeners: z.array(listenerSchema).min(1, 'at least one listener is needed'),
  })
  .meta({ description: 'the local MQTT broker for HMIs, scripts and devices on site' });

export type BrokerConfig = z.infer<typeof brokerSchema>;
