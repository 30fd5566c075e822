// Closing the upstream session. A farewell (the Sparkplug NDEATH) goes first, then a DISCONNECT
// (MQTT 5 with `reasonCode`, e.g. 0x04 "with Will Message"); each step is bounded so that a
// dead link cannot hold the gateway's shutdown past its 2 s budget.
import type { MqttClient } from 'mqtt';
import type { Farewell } from './bridge-options.js';

export async function endSession(client: MqttClient, protocolVersion: 4 | 5, farewell?: Farewell, reasonCode?: number): Promise<void> {
  if (farewell !== undefined) {
    await bounded(500, (done) => client.publish(farewell.topic, farewell.payload, { qos: farewell.qos, retain: false }, () => done()));
    const ended = await bounded(500, (done) => client.end(false, reasonCode !== undefined && protocolVersion === 5 ? { reasonCode } : {}, () => done()));
    if (ended) return;
  }
  await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
}

/** Runs `start(done)` and resolves true when done is called, false after `ms`. */
function bounded(ms: number, start: (done: () => void) => void): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    start(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
