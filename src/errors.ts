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
  FG_ERR_WRITE_REJECTED: { class: 'command', meaning: 'a write was refused before reaching the device' },
  FG_ERR_WRITE_FAILED: { class: 'command', meaning: 'the device refused or failed a write' },
  FG_ERR_LISTEN: { class: 'runtime', meaning: 'a listener could not bind its address' },
  FG_ERR_BROKER_PROTOCOL: { class: 'broker', meaning: 'an MQTT client broke the protocol; only its connection was closed' },
  FG_ERR_BROKER_AUTH: { class: 'broker', meaning: 'broker users, password file or TLS material could not be loaded' },
  FG_ERR_BROKER_TOPIC: { class: 'broker', meaning: 'a topic name or filter is invalid for the in-process broker API' },
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
