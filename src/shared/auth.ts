// Users and passwords: scrypt hashes in config or a password file (issue 3). The clear password
// exists only for the duration of one check and is never logged.
import { readFileSync } from 'node:fs';
import { FieldgateError } from '../errors.js';

// Not `import`: node:crypto's ESM facade would read its webcrypto getters (issue 15, see websocket.ts).
// Not at load either: loading node:crypto initialises OpenSSL, ~4 MiB RSS, which a broker
// without users (or a gateway without a broker) never needs (issue 15).
const crypto = () => process.getBuiltinModule('node:crypto');

// N=2^14, r=8, p=1: ~16 MiB and tens of ms on a Raspberry Pi 4, the RFC 7914 interactive setting.
const DEFAULT_COST = { N: 16_384, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;

function scryptAsync(password: string, salt: Buffer, N: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    crypto().scrypt(password, salt, KEY_LENGTH, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** `scrypt$N$r$p$salt$hash` (base64): what `fieldgate passwd` prints and `users[].passwordHash` holds. */
export async function hashPassword(password: string, cost: { N: number; r: number; p: number } = DEFAULT_COST): Promise<string> {
  const salt = crypto().randomBytes(16);
  const key = await scryptAsync(password, salt, cost.N, cost.r, cost.p);
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0) || N > 1 << 20) return false;
  const salt = Buffer.from(parts[4] as string, 'base64');
  const expected = Buffer.from(parts[5] as string, 'base64');
  if (expected.length !== KEY_LENGTH) return false;
  const key = await scryptAsync(password, salt, N, r, p);
  return crypto().timingSafeEqual(key, expected);
}

/** `username:hash` lines; `#` comments and blank lines ignored. */
export function readPasswordFile(path: string): Array<{ username: string; passwordHash: string }> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new FieldgateError('FG_ERR_BROKER_AUTH', `cannot read broker password file ${path}: ${(err as Error).message}`, { cause: err });
  }
  const users: Array<{ username: string; passwordHash: string }> = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    if (colon <= 0 || !line.slice(colon + 1).startsWith('scrypt$')) {
      throw new FieldgateError('FG_ERR_BROKER_AUTH', `${path}:${i + 1}: expected username:scrypt$... (from fieldgate passwd)`);
    }
    users.push({ username: line.slice(0, colon), passwordHash: line.slice(colon + 1) });
  });
  return users;
}

export interface Credentials {
  username: string | undefined;
  password: Buffer | undefined;
  certIdentity: string | undefined;
  allowAnonymous: boolean;
}

export type AuthResult = { ok: true; username: string | undefined } | { ok: false; reason: 'bad-credentials' | 'not-authorized' };

const CACHE_LIMIT = 1024;

export class Authenticator {
  private readonly users = new Map<string, string>();
  // A reconnect storm would otherwise cost one scrypt per attempt; keyed by a digest, never the password.
  private readonly verified = new Map<string, true>();

  /**
   * Checked for an unknown user, so that it costs the same scrypt as a wrong password and the
   * answer time does not tell which usernames exist (issue 18 item 5). Same cost parameters as
   * the first configured user; a random key no password can match.
   */
  private decoy: string | undefined;

  constructor(users: ReadonlyArray<{ username: string; passwordHash: string }>) {
    this.replace(users);
  }

  /** Reload (issue 20): the next CONNECT is checked against these users; live sessions stay. */
  replace(users: ReadonlyArray<{ username: string; passwordHash: string }>): void {
    this.users.clear();
    this.verified.clear();
    for (const u of users) this.users.set(u.username, u.passwordHash);
    const first = users[0]?.passwordHash.split('$');
    this.decoy = first !== undefined && first.length === 6
      ? `scrypt$${first[1]}$${first[2]}$${first[3]}$${crypto().randomBytes(16).toString('base64')}$${crypto().randomBytes(KEY_LENGTH).toString('base64')}`
      : undefined;
  }

  async authenticate(c: Credentials): Promise<AuthResult> {
    if (c.certIdentity !== undefined) return { ok: true, username: c.certIdentity };
    if (c.username === undefined) {
      return c.allowAnonymous ? { ok: true, username: undefined } : { ok: false, reason: 'not-authorized' };
    }
    const hash = this.users.get(c.username);
    if (hash === undefined || c.password === undefined) {
      // Anonymous-allowed listeners still refuse a wrong named login rather than downgrade it.
      if (this.decoy !== undefined) await verifyPassword(c.password?.toString('utf8') ?? '', this.decoy);
      return { ok: false, reason: 'bad-credentials' };
    }
    const digest = crypto().createHash('sha256').update(hash).update('\u0000').update(c.password).digest('base64');
    if (this.verified.has(digest)) return { ok: true, username: c.username };
    const ok = await verifyPassword(c.password.toString('utf8'), hash);
    if (!ok) return { ok: false, reason: 'bad-credentials' };
    if (this.verified.size >= CACHE_LIMIT) this.verified.clear();
    this.verified.set(digest, true);
    return { ok: true, username: c.username };
  }
}
