// Secrets out of every log line and error message (issue 19). Two kinds: the password in a
// URL's userinfo (`mqtts://user:password@host`), whatever its source, and any value that a
// `${env:...}` or `${file:...}` reference resolved to. Resolved values are remembered here for
// the life of the process, so that the logger and the config errors can mask them wherever
// they turn up (a size error echoing its input, a URL in an mqtt.js message).
const CENSOR = '[redacted]';
/** Shorter values would mask ordinary words and numbers in every line. */
const MIN_SECRET_LENGTH = 4;

const secrets = new Set<string>();

/** Called by the secret substitution for every value it resolved. */
export function rememberSecret(value: string): void {
  if (value.length >= MIN_SECRET_LENGTH) secrets.add(value);
}

// scheme://user:password@  ->  scheme://user:[redacted]@ ; the user name stays (it helps).
const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/[^\s/:@]*):([^\s/@]*)@/gi;

export function redactSecrets(text: string): string {
  let out = text.includes('://') ? text.replace(URL_USERINFO, `$1:${CENSOR}@`) : text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(CENSOR);
  return out;
}

/** Strings inside a log object (two levels deep, errors included) with secrets masked. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (depth >= 3 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    const e = value as Error & { code?: unknown };
    return { type: e.name, message: redactSecrets(e.message), ...(e.stack !== undefined ? { stack: redactSecrets(e.stack) } : {}), ...(e.code !== undefined ? { code: e.code } : {}) };
  }
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = redactValue(v, depth + 1);
  return out;
}
