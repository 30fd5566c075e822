// OPC UA status codes to the gateway's quality. Part 4, 7.39: the two top bits of a StatusCode
// are its severity: 00 Good, 01 Uncertain, 10 Bad (11 is reserved and treated as Bad).
import type { Quality } from '../../src/runtime/types.js';

export function qualityOf(statusCode: number): Quality {
  const severity = (statusCode >>> 30) & 0b11;
  if (severity === 0) return 'GOOD';
  if (severity === 1) return 'UNCERTAIN';
  return 'BAD';
}
