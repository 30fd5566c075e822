// One shape for every way a Modbus request fails, so the driver can decide per kind: an
// exception is the device answering (per-tag BAD, learning), a timeout or a broken link is the
// device not answering (the poll fails and counts toward offline).
import { FieldgateError, errorMessage, type ErrorCode } from '../../src/errors.js';

export const FAILURE_KINDS = ['timeout', 'exception', 'crc', 'connection', 'aborted'] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

/** MODBUS Application Protocol v1.1b3 §7 exception codes. */
export const EXCEPTION = {
  ILLEGAL_FUNCTION: 1,
  ILLEGAL_DATA_ADDRESS: 2,
  ILLEGAL_DATA_VALUE: 3,
  SERVER_DEVICE_FAILURE: 4,
  GATEWAY_PATH_UNAVAILABLE: 10,
  GATEWAY_TARGET_FAILED: 11,
} as const;

const CODE: Record<FailureKind, ErrorCode> = {
  timeout: 'FG_ERR_MODBUS_TIMEOUT',
  exception: 'FG_ERR_MODBUS_EXCEPTION',
  crc: 'FG_ERR_MODBUS_CRC',
  connection: 'FG_ERR_MODBUS_CONNECTION',
  aborted: 'FG_ERR_DEVICE_TIMEOUT',
};

export class ModbusRequestError extends FieldgateError {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly exceptionCode?: number,
    options?: { cause?: unknown },
  ) {
    super(CODE[kind], message, options);
    this.name = 'ModbusRequestError';
  }

  /** A gateway reporting that the device behind it did not answer is a timeout, not an answer. */
  get deviceAnswered(): boolean {
    return (
      this.kind === 'exception' &&
      this.exceptionCode !== EXCEPTION.GATEWAY_PATH_UNAVAILABLE &&
      this.exceptionCode !== EXCEPTION.GATEWAY_TARGET_FAILED
    );
  }
}

/** modbus-serial rejects with plain objects as well as Errors; read what they carry. */
export function classify(e: unknown, what: string): ModbusRequestError {
  if (e instanceof ModbusRequestError) return e;
  const o = (typeof e === 'object' && e !== null ? e : {}) as { modbusCode?: unknown; errno?: unknown; message?: unknown; code?: unknown };
  const message = typeof o.message === 'string' ? o.message : errorMessage(e);
  if (typeof o.modbusCode === 'number') {
    return new ModbusRequestError('exception', `${what}: ${message}`, o.modbusCode, { cause: e });
  }
  if (o.errno === 'ETIMEDOUT' || /timed out/i.test(message)) {
    return new ModbusRequestError('timeout', `${what}: no answer within the request timeout`, undefined, { cause: e });
  }
  if (/CRC error|Data length error|Unexpected data/i.test(message)) {
    return new ModbusRequestError('crc', `${what}: ${message}`, undefined, { cause: e });
  }
  return new ModbusRequestError('connection', `${what}: ${message || String(o.code ?? o.errno ?? 'connection failed')}`, undefined, { cause: e });
}
