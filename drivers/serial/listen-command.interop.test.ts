// `fieldgate serial listen` (issue 20) on a socat pseudo-terminal pair: the instrument's end
// writes frames, the command prints each with what csv, json and --regex parsing make of it.
import { spawn } from 'node:child_process';
import { openSync, writeSync, closeSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLI } from '../../test/helpers/cli.js';
import { until } from '../../test/helpers/until.js';
import { PtyPair } from './testing/pty-fixture.js';
import { useCleanups } from '../../test/helpers/cleanups.js';

const cleanups = useCleanups();

describe('fieldgate serial listen (issue 20)', () => {
  it('prints framed lines with the parse result and stops on Ctrl-C', async () => {
    const pty = new PtyPair();
    await pty.up();
    cleanups.push(() => pty.close());
    const child = spawn(process.execPath, [CLI, 'serial', 'listen', pty.device, '--baud', '9600', '--regex', 'W=(?<weight>[\\d.]+)'], { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => void child.kill('SIGKILL'));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    // The command opens the port asynchronously: keep offering the first frame until it shows.
    const fd = openSync(pty.peerPath, 'w');
    cleanups.push(() => closeSync(fd));
    await until(() => {
      if (!stdout.includes('W=12.5')) writeSync(fd, 'W=12.5,kg,ST\r\n');
      return stdout.includes('W=12.5');
    }, 10_000, 'first frame');
    writeSync(fd, '{"t":21.5,"unit":"C"}\n');
    await until(() => stdout.includes('"json"'), 10_000, 'JSON frame');
    // Ctrl-C ends the listening cleanly.
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stderr).toBe('');
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toEqual({ frame: 'W=12.5,kg,ST', csv: ['W=12.5', 'kg', 'ST'], regex: { 1: '12.5', weight: '12.5' } });
    expect(lines.find((l) => 'json' in l)).toMatchObject({ frame: '{"t":21.5,"unit":"C"}', json: { t: 21.5, unit: 'C' }, regex: 'no match' });
  });
});
