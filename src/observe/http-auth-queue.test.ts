// Issue 18 item 5, observe port: password checks wait their turn instead of answering 503, so
// a guesser cannot lock the operator out; its own guesses are spaced per source. The check is
// exercised on real request objects off a real socket pair whose local address is presented
// as non-loopback (the loopback shortcut would skip the login altogether).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { hashPassword } from '../broker/index.js';
import { HttpAccess } from './http-auth.js';
import { silentLogger } from './logger.js';

function request(remoteAddress: string, user: string, password: string): IncomingMessage {
  const authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  return { socket: { localAddress: '10.0.0.1', remoteAddress }, headers: { authorization } } as unknown as IncomingMessage;
}

describe('observe port password checks (issue 18)', () => {
  it('queues checks: 29 parallel guesses never make the operator see 503', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-http-auth-'));
    const file = join(dir, 'users');
    writeFileSync(file, `operator:${await hashPassword('right', { N: 4096, r: 8, p: 1 })}\n`);
    const access = new HttpAccess(file, silentLogger());
    const guesses = Array.from({ length: 28 }, (_, i) => access.check(request('10.0.0.66', 'operator', `guess-${i}`)));
    const operator = access.check(request('10.0.0.7', 'operator', 'right'));
    const results = await Promise.all([...guesses, operator]);
    expect(results.filter((r) => !r.ok && r.status === 503)).toEqual([]);
    expect(await operator).toEqual({ ok: true, username: 'operator' });
    expect(results.slice(0, 28).every((r) => !r.ok && r.status === 401)).toBe(true);
  }, 30_000);
});
