// `fieldgate validate FILE`: one site (or host) file checked, as the line the command prints.
// Apart from cli.ts so the bad-config fixtures are checked in-process (issue 16).
import { readFileSync } from 'node:fs';
import { ConfigError, loadConfigFile } from './config/load.js';
import type { DriverSchema } from './config/driver-schema.js';
import { errorMessage } from './errors.js';

export type Validation = { ok: true; line: string } | { ok: false; message: string };

export async function validateFile(file: string, drivers: readonly DriverSchema[]): Promise<Validation> {
  const { looksLikeHostFile, loadHostConfigFile } = await import('./host/config.js');
  try {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // loadConfigFile reports the unreadable file with its reason.
    }
    if (looksLikeHostFile(text)) {
      const h = loadHostConfigFile(file);
      return { ok: true, line: `${file}: ok (host ${h.host.id})` };
    }
    const cfg = loadConfigFile(file, drivers);
    return { ok: true, line: `${file}: ok (${cfg.devices.length} devices, ${cfg.devices.reduce((n, d) => n + d.tags.length, 0)} tags)` };
  } catch (e) {
    return { ok: false, message: e instanceof ConfigError ? e.message : `${file}: ${errorMessage(e)}` };
  }
}
