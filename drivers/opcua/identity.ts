// The session's user identity from the `auth:` block (Part 4, 7.36: anonymous, user name,
// X.509 certificate). Used by the driver and by browse.
import { readFileSync } from 'node:fs';
import type * as Opcua from 'node-opcua-client';
import { FieldgateError, errorMessage } from '../../src/errors.js';
import type { OpcuaModule } from './load.js';
import type { Auth } from './schema.js';

/** A certificate file as DER: PEM files are unwrapped, anything else is taken as DER. */
export function certificateDer(file: string): Buffer {
  const raw = readFileSync(file);
  const text = raw.toString('latin1');
  const m = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(text);
  return m === null ? raw : Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64');
}

export function userIdentity(ua: OpcuaModule, auth: Auth): Opcua.UserIdentityInfo {
  switch (auth.kind) {
    case 'username':
      return { type: ua.UserTokenType.UserName as Opcua.UserTokenType.UserName, userName: auth.username, password: auth.password };
    case 'certificate': {
      let certificateData: Buffer;
      let privateKey: string;
      try {
        certificateData = certificateDer(auth.certificate);
        // node-opcua takes the user key as PEM text (makePrivateKeyFromPem).
        privateKey = readFileSync(auth.privateKey, 'utf8');
      } catch (e) {
        throw new FieldgateError('FG_ERR_DEVICE_IO', `cannot read the user certificate ${auth.certificate} or its key ${auth.privateKey}: ${errorMessage(e)}`, { cause: e });
      }
      return { type: ua.UserTokenType.Certificate as Opcua.UserTokenType.Certificate, certificateData, privateKey } as unknown as Opcua.UserIdentityInfo;
    }
    default:
      return { type: ua.UserTokenType.Anonymous as Opcua.UserTokenType.Anonymous };
  }
}

/** Who the session claims to be, for error messages: never a password. */
export function describeUser(auth: Auth): string | undefined {
  if (auth.kind === 'username') return auth.username;
  if (auth.kind === 'certificate') return `with certificate ${auth.certificate}`;
  return undefined;
}
