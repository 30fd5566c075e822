// Random bytes without node:crypto (issue 15). Loading node:crypto initialises OpenSSL and ~25 of
// Node's own modules, ~2 MiB RSS, which a gateway that only needs a few random bytes at start (a
// store's epoch) should not pay. /dev/urandom is the kernel's CSPRNG, the source OpenSSL itself
// seeds from; where it cannot be opened (not Linux, a sandbox without /dev), node:crypto.
import { closeSync, openSync, readSync } from 'node:fs';

export function urandomBytes(size: number): Buffer {
  const out = Buffer.alloc(size);
  let fd: number;
  try {
    fd = openSync('/dev/urandom', 'r');
  } catch {
    return process.getBuiltinModule('node:crypto').randomBytes(size);
  }
  try {
    for (let got = 0; got < size;) {
      const n = readSync(fd, out, got, size - got, null);
      if (n === 0) throw new Error('/dev/urandom returned no bytes');
      got += n;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}
