// Turns node-opcua's connect failures into errors an operator can act on: which certificate
// file to move where, or which user the server refused (never the password).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FieldgateError, errorMessage } from '../../src/errors.js';

/** The newest file in <pki>/rejected: node-opcua has just put the server's certificate there. */
export function newestRejected(pki: string): string | undefined {
  const dir = join(pki, 'rejected');
  let best: { file: string; at: number } | undefined;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  for (const name of names) {
    if (!/\.(pem|der)$/i.test(name)) continue;
    const file = join(dir, name);
    const at = statSync(file).mtimeMs;
    if (best === undefined || at > best.at) best = { file, at };
  }
  return best?.file;
}

export function explainConnectError(e: unknown, endpoint: string, pki: string, username?: string): FieldgateError {
  const msg = errorMessage(e);
  if (/BadCertificateUntrusted|BadCertificateChainIncomplete|certificate verification failed/i.test(msg)) {
    const file = newestRejected(pki);
    const where = join(pki, 'trusted', 'certs');
    const what = file === undefined ? `its certificate (not found in ${join(pki, 'rejected')})` : file;
    return new FieldgateError('FG_ERR_OPCUA_UNTRUSTED', `the certificate of OPC UA server ${endpoint} is not trusted yet: to trust it, move ${what} to ${where}/`, { cause: e });
  }
  if (/BadUserAccessDenied|BadIdentityTokenRejected|BadIdentityTokenInvalid|BadUserSignatureInvalid/i.test(msg)) {
    const who = username === undefined ? 'anonymous access' : username.startsWith('with certificate') ? `the user ${username}` : `user "${username}"`;
    return new FieldgateError('FG_ERR_OPCUA_AUTH', `OPC UA server ${endpoint} refused ${who}: ${msg.replace(/\s+/g, ' ').slice(0, 200)}`, { cause: e });
  }
  return new FieldgateError('FG_ERR_DEVICE_IO', `cannot connect to OPC UA server ${endpoint}: ${msg}`, { cause: e });
}
