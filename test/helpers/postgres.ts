// Debian's PostgreSQL 15 as a throwaway cluster for tests: initdb on a temp dir, a free
// loopback port, trust auth, stopped and deleted at the end. initdb refuses to run as root, so
// as root it runs as the `postgres` account the Debian package created.
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

function binDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const v = readdirSync(base).sort((a, b) => Number(b) - Number(a))[0];
  return v === undefined ? undefined : join(base, v, 'bin');
}

export class Postgres {
  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly bin: string,
    private readonly asUser: string[],
  ) {}

  static available(): boolean {
    return binDir() !== undefined;
  }

  static async start(): Promise<Postgres> {
    const bin = binDir();
    if (bin === undefined) throw new Error('PostgreSQL is not installed (apt-get install postgresql)');
    const dir = mkdtempSync(join(tmpdir(), 'fg-pg-'));
    const root = process.getuid?.() === 0;
    const asUser = root ? ['runuser', '-u', 'postgres', '--'] : [];
    if (root) {
      const pw = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
      const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
      chownSync(dir, Number(pw.stdout.trim()), Number(gid.stdout.trim()));
    }
    const run = (cmd: string, args: string[]): void => {
      const [c, ...a] = [...asUser, join(bin, cmd), ...args];
      const r = spawnSync(c as string, a, { encoding: 'utf8', timeout: 60_000 });
      if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}${r.stdout}`);
    };
    const port = await freePort();
    run('initdb', ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'fieldgate', '--no-sync']);
    run('pg_ctl', ['-D', join(dir, 'data'), '-w', '-t', '30', '-l', join(dir, 'log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=on`, 'start']);
    return new Postgres(port, dir, bin, asUser);
  }

  get url(): string {
    return `postgres://fieldgate@127.0.0.1:${this.port}/postgres`;
  }

  /** kill -9 of the server is not needed by the host tests; a fast stop is. */
  stop(): void {
    const [c, ...a] = [...this.asUser, join(this.bin, 'pg_ctl'), '-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop'];
    spawnSync(c as string, a, { encoding: 'utf8', timeout: 30_000 });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
