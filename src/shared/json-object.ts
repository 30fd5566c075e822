// Small JSON control payloads (host STATE, host acks) arrive from the network: anything that is
// not a JSON object is "not this message", never an exception (issue 16: one copy of the guard).

/** The payload as a JSON object's fields, or undefined when it is not UTF-8 JSON of an object. */
export function parseJsonObject(payload: Buffer): Record<string, unknown> | undefined {
  let v: unknown;
  try {
    v = JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
}
