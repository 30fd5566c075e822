// One catalogue of error codes: stable strings that operators grep for and docs explain.
// Add a code here with its class and a one-line meaning; never reuse or rename one.

export const ERROR_CATALOGUE = {
  FG_ERR_CONFIG: { class: 'config', meaning: 'the site configuration is invalid' },
  FG_ERR_CONFIG_SECRET: { class: 'config', meaning: 'a ${env:...} or ${file:...} secret could not be resolved' },
  FG_ERR_USAGE: { class: 'usage', meaning: 'the command line is invalid' },
  FG_ERR_DRIVER_UNKNOWN: { class: 'config', meaning: 'no driver is registered under that name' },
  FG_ERR_DEVICE_TIMEOUT: { class: 'device', meaning: 'the device did not answer within its timeout' },
  FG_ERR_DEVICE_OFFLINE: { class: 'device', meaning: 'the device is offline' },
  FG_ERR_DEVICE_IO: { class: 'device', meaning: 'the device conversation failed' },
  FG_ERR_DEVICE_FAULT: { class: 'device', meaning: "an exception in a device's read or decode path; only that device went offline, and it reconnects" },
  FG_ERR_TAG_VALUE: { class: 'device', meaning: 'a value could not be scaled, converted or encoded for its tag; only that tag went BAD' },
  FG_ERR_WRITE_REJECTED: { class: 'command', meaning: 'a write was refused before reaching the device' },
  FG_ERR_WRITE_FAILED: { class: 'command', meaning: 'the device refused or failed a write' },
  FG_ERR_LISTEN: { class: 'runtime', meaning: 'a listener could not bind its address' },
  FG_ERR_MODBUS_TIMEOUT: { class: 'device', meaning: 'a Modbus device did not answer a request within its timeout' },
  FG_ERR_MODBUS_EXCEPTION: { class: 'device', meaning: 'a Modbus device answered with an exception code' },
  FG_ERR_MODBUS_CRC: { class: 'device', meaning: 'a Modbus RTU frame arrived with a bad CRC or length' },
  FG_ERR_MODBUS_CONNECTION: { class: 'device', meaning: 'the Modbus connection (TCP socket or serial port) is closed or failed' },
  FG_ERR_MODBUS_DECODE: { class: 'device', meaning: 'Modbus registers could not be decoded into the tag type' },
  FG_ERR_MODBUS_PLAN: { class: 'config', meaning: 'a Modbus tag cannot be read within the device request limits' },
  FG_ERR_STORE_OPEN: { class: 'store', meaning: 'the store file could not be opened or created' },
  FG_ERR_STORE_CORRUPT: { class: 'store', meaning: 'the store file failed its integrity check and was moved aside; a new epoch began' },
  FG_ERR_STORE_MIGRATION: { class: 'store', meaning: 'a store schema migration failed or the file is from a newer version' },
  FG_ERR_STORE_DISK_FULL: { class: 'store', meaning: 'the disk (or the file-size limit) is full: the append was refused, nothing accepted was lost' },
  FG_ERR_STORE_IO: { class: 'store', meaning: 'the store could not read or write its file' },
  FG_ERR_STORE_BUDGET: { class: 'store', meaning: 'store.maxBytes is reached: drop-oldest evicted unsent records or reject-new refused new ones' },
  FG_ERR_STORE_DAMAGED: { class: 'store', meaning: 'a damaged page of the store file was met while running: that write failed, the gateway stays up; the next start checks the file and moves it aside if needed' },
  FG_ERR_STORE_READONLY: { class: 'store', meaning: 'the store file or its directory is read-only (file mode, owner or a read-only mount): the gateway cannot keep anything' },
  FG_ERR_STORE_CLOSED: { class: 'store', meaning: 'the store was used after close()' },
  FG_ERR_UPSTREAM_CONNECT: { class: 'upstream', meaning: 'the upstream broker could not be reached or refused the connection' },
  FG_ERR_UPSTREAM_TIMEOUT: { class: 'upstream', meaning: 'the upstream broker confirmed nothing in time while records were in flight: the session was ended and they are sent again' },
  FG_ERR_UPSTREAM_TLS: { class: 'upstream', meaning: 'a TLS file (CA, certificate, key) for the upstream could not be read' },
  FG_ERR_UPSTREAM_PROTOCOL: { class: 'upstream', meaning: 'the upstream refused MQTT 5: the bridge fell back to MQTT 3.1.1 for this run' },
  FG_ERR_UPSTREAM_TOPIC_REFUSED: { class: 'upstream', meaning: 'the upstream closes the session right after publishes to one topic: it lacks publish permission' },
  FG_ERR_UPSTREAM_SPARKPLUG_TOPIC: { class: 'upstream', meaning: 'a command arrived on spBv1/0/...: the broker rewrites the Sparkplug namespace (RabbitMQ: mqtt.sparkplug = true)' },
  FG_ERR_UPSTREAM_HOST_STALLED: { class: 'upstream', meaning: 'confirm: host: the consumer confirmed nothing for a while although records waited: the session was ended so they are sent again' },
  FG_ERR_UPSTREAM_CONFIRM_GAP: { class: 'upstream', meaning: 'confirm: host: the consumer confirmed records past one it never received (lost in transit): the session was ended so that every unconfirmed record is sent again' },
  FG_ERR_UPSTREAM_SWITCH: { class: 'upstream', meaning: 'upstream.servers: the gateway left one server for the next (connection lost after the retries, primary host offline there, or back to the first); a new Sparkplug session follows' },
  FG_ERR_UPSTREAM_ACK_SUBSCRIBE: { class: 'upstream', meaning: 'confirm: host: the consumer ack topic cannot be subscribed, so nothing leaves the outbox' },
  FG_ERR_OPCUA_UNTRUSTED: { class: 'device', meaning: "the OPC UA server's certificate is not in the gateway's trust list yet" },
  FG_ERR_OPCUA_AUTH: { class: 'device', meaning: 'the OPC UA server refused the configured user identity' },
  FG_ERR_OPCUA_UNAVAILABLE: { class: 'runtime', meaning: 'an OPC UA device is configured but node-opcua is not installed' },
  FG_ERR_BROKER_PROTOCOL: { class: 'broker', meaning: 'an MQTT client broke the protocol; only its connection was closed' },
  FG_ERR_BROKER_AUTH: { class: 'broker', meaning: 'broker users, password file or TLS material could not be loaded' },
  FG_ERR_BROKER_TOPIC: { class: 'broker', meaning: 'a topic name or filter is invalid for the in-process broker API' },
  FG_ERR_HOST_PAYLOAD: { class: 'host', meaning: 'the host received a message on a Sparkplug topic that is not a Sparkplug B payload; it was skipped' },
  FG_ERR_HOST_WRITE: { class: 'host', meaning: '`fieldgate host write` got no DDATA echo of the written value in time, or the metric is unknown' },
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export class FieldgateError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FieldgateError';
    this.code = code;
  }
}

export function isFieldgateError(e: unknown, code?: ErrorCode): e is FieldgateError {
  return e instanceof FieldgateError && (code === undefined || e.code === code);
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
