// `fieldgate demo --mqtt-port N --http-port N` (issue 20): the demo's fixed ports 1883/8080 are
// often taken on an integrator's laptop (a Mosquitto, another web app), and parallel CI runs
// collide on them. The overrides replace the ports of the embedded file; a busy port is named
// together with the flag that moves it.
import type { GatewayConfig } from './config/schema.js';
import { FieldgateError, errorMessage } from './errors.js';

export interface DemoPorts {
  mqttPort?: number | undefined;
  httpPort?: number | undefined;
}

/** Parses a `--*-port` value: 0 (any free port) to 65535. */
export function parsePortFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isInteger(n) || n > 65535) {
    throw new FieldgateError('FG_ERR_USAGE', `${flag} must be a port number 0-65535, got "${value}"`);
  }
  return n;
}

export function applyDemoPorts(config: GatewayConfig, ports: DemoPorts): GatewayConfig {
  const out: GatewayConfig = { ...config };
  if (ports.httpPort !== undefined) out.observe = { ...config.observe, http: { ...config.observe.http, port: ports.httpPort } };
  if (ports.mqttPort !== undefined && config.broker !== undefined) {
    const [first, ...rest] = config.broker.listeners;
    if (first !== undefined) out.broker = { ...config.broker, listeners: [{ ...first, port: ports.mqttPort }, ...rest] };
  }
  return out;
}

/**
 * The sentence a demo user needs when start failed on a busy port, or undefined when the
 * failure was something else. Which port is busy comes from the error the listener raised.
 */
export function busyPortHint(config: GatewayConfig, e: unknown): string | undefined {
  if (!(e instanceof FieldgateError) || e.code !== 'FG_ERR_LISTEN') return undefined;
  const text = `${errorMessage(e)} ${errorMessage(e.cause)}`;
  if (!/EADDRINUSE/.test(text)) return undefined;
  const http = config.observe.http.port;
  const mqtt = config.broker?.listeners[0]?.port;
  if (/observe endpoint/.test(text)) return `port ${http} (HTTP status page) is busy: choose another with --http-port N`;
  if (mqtt !== undefined) return `port ${mqtt} (MQTT broker) is busy: choose another with --mqtt-port N`;
  return undefined;
}
