// Who may use the observe port: anyone who arrives on a loopback address (the socket's local
// address, not the Host header, decides), everyone else with HTTP Basic checked against a
// `fieldgate passwd` password file, the broker's format and hashing. The server refuses to
// bind off loopback without TLS (config/sections/observe.ts), so credentials never cross the
// network in the clear. Neither the password nor the header is ever logged.
import type { IncomingMessage } from 'node:http';
import { Authenticator, readPasswordFile } from '../shared/auth.js';
import { isLoopbackHost } from '../config/sections/observe.js';
import { FieldgateError } from '../errors.js';
import { LoginGuard } from '../shared/login-guard.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { silentLogger, type Logger } from './logger.js';

export type AccessDecision = { ok: true; username?: string } | { ok: false; status: 401 | 403 | 503; reason: string };

// scrypt at N=2^14 takes ~16 MiB and tens of ms: no more than this many run at once; the rest
// wait their turn (issue 18: refusing them with 503 let a guesser lock the operator out).
const MAX_CONCURRENT_CHECKS = 2;
// Beyond this many waiting checks the port is overloaded, not guessed at (each source's
// guesses are already spaced by the LoginGuard before they queue): 503 then.
const MAX_WAITING_CHECKS = 256;

export class HttpAccess {
  private readonly auth: Authenticator | undefined;
  private readonly guard: LoginGuard;
  private checking = 0;
  private readonly waiting: Array<() => void> = [];

  /** `usersFile` absent: only loopback requests are served; nobody can log in from elsewhere. */
  constructor(usersFile: string | undefined, logger: Logger = silentLogger(), clock: Clock = systemClock) {
    this.guard = new LoginGuard(clock, logger, 'observe port');
    if (usersFile === undefined) return;
    try {
      this.auth = new Authenticator(readPasswordFile(usersFile));
    } catch (e) {
      throw new FieldgateError('FG_ERR_CONFIG', `observe.http.users: ${(e as Error).message}`, { cause: e });
    }
  }

  async check(req: IncomingMessage): Promise<AccessDecision> {
    if (isLoopbackHost(req.socket.localAddress ?? '')) return { ok: true };
    if (this.auth === undefined) return { ok: false, status: 403, reason: 'no users configured for access off loopback' };
    const creds = parseBasic(req.headers.authorization);
    if (creds === undefined) return { ok: false, status: 401, reason: 'login required' };
    const source = req.socket.remoteAddress ?? 'unknown';
    await this.guard.admit(source);
    if (!(await this.turn())) {
      this.guard.abandoned(source);
      return { ok: false, status: 503, reason: 'busy checking other logins' };
    }
    try {
      const r = await this.auth.authenticate({ username: creds.username, password: creds.password, certIdentity: undefined, allowAnonymous: false });
      if (r.ok) this.guard.succeeded(source);
      else this.guard.failed(source);
      return r.ok ? { ok: true, username: creds.username } : { ok: false, status: 401, reason: 'bad credentials' };
    } finally {
      this.checking -= 1;
      this.waiting.shift()?.();
    }
  }

  /** Waits for one of the MAX_CONCURRENT_CHECKS slots; false when too many already wait. */
  private turn(): Promise<boolean> {
    if (this.checking < MAX_CONCURRENT_CHECKS) {
      this.checking += 1;
      return Promise.resolve(true);
    }
    if (this.waiting.length >= MAX_WAITING_CHECKS) return Promise.resolve(false);
    return new Promise((resolve) =>
      this.waiting.push(() => {
        this.checking += 1;
        resolve(true);
      }),
    );
  }
}

/** RFC 7617: `Basic base64(user ":" password)`; the password may contain colons. */
export function parseBasic(header: string | undefined): { username: string; password: Buffer } | undefined {
  if (header === undefined) return undefined;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (m === null) return undefined;
  const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { username: decoded.slice(0, colon), password: Buffer.from(decoded.slice(colon + 1), 'utf8') };
}
