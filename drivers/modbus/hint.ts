// What to check when a Modbus device never answered (issue 20): a wrong unit id shows only as
// repeated timeouts, a wrong host or port as a failed connect. These hints name the setting.
import type { ModbusConnection } from './schema.js';
import { ModbusRequestError } from './request-error.js';

/** The connection's endpoint as an operator writes it. */
export function endpoint(c: ModbusConnection): string {
  return c.transport === 'rtu' ? `${c.path ?? ''} at ${c.baudRate} baud` : `${c.host ?? ''}:${c.port}`;
}

/**
 * The setting to check for a failure of a device that has not answered once since it
 * started, or undefined when the error says enough by itself (an exception is an answer).
 */
export function neverAnsweredHint(err: ModbusRequestError, c: ModbusConnection): string | undefined {
  if (err.kind === 'timeout') {
    if (c.transport === 'rtu') {
      return `check unitId (${c.unitId}), then baudRate/parity and the wiring: nothing answered on ${endpoint(c)}`;
    }
    // The socket is open, so host and port reach something; a unit id nobody has is silent.
    return `check unitId (${c.unitId}): ${endpoint(c)} accepted the connection but unit ${c.unitId} never answered`;
  }
  if (err.kind === 'exception' && !err.deviceAnswered) {
    // Exceptions 10/11 come from a gateway (or a multi-unit server) with no such unit behind it.
    return `check unitId (${c.unitId}): ${endpoint(c)} answered but has no unit ${c.unitId} (exception ${err.exceptionCode ?? '?'})`;
  }
  if (err.kind !== 'connection') return undefined;
  const code = (err.cause as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ECONNREFUSED') return `check port (${c.port}): host ${c.host ?? ''} refused the connection, nothing listens there`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `check host: "${c.host ?? ''}" does not resolve`;
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || /no answer within/.test(err.message)) {
    return `check host (${c.host ?? ''}): it cannot be reached`;
  }
  if (c.transport === 'rtu') return `check path (${c.path ?? ''})`;
  return undefined;
}

/** The same error with the hint appended, keeping kind, code and cause. */
export function withHint(err: ModbusRequestError, c: ModbusConnection): ModbusRequestError {
  const hint = neverAnsweredHint(err, c);
  if (hint === undefined) return err;
  return new ModbusRequestError(err.kind, `${err.message}; ${hint}`, err.exceptionCode, { cause: err.cause });
}
