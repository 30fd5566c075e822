// bench/broker.mjs BENCH_BUNDLE=1 (issue 15) measures the broker as the package ships its code:
// bench/fieldgate-broker.mjs bundled with pkg/bundle.mjs's esbuild options. The bundled broker
// must start on its own (no dist/ module files) and route messages, or the bench measures nothing.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundleBroker } from '../bench/lib/bundled-broker.mjs';
import { closeClients, collect, connectClient } from './helpers/broker.js';
import { useCleanups, useScratchDir } from './helpers/cleanups.js';
import { freePort } from './helpers/ports.js';

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');

describe('broker bench, bundled as the package ships it', () => {
  const cleanups = useCleanups();
  const scratch = useScratchDir('fg-bench-bundle-test-');

  it.skipIf(!existsSync(DIST))('the bundled bench broker runs alone and routes a QoS 1 message', async () => {
    const b = await bundleBroker(scratch('bundle'));
    expect(b.entry.startsWith(scratch('bundle'))).toBe(true);
    // The broker's code is in the bundle, not imported from tsc's output.
    expect(readFileSync(b.entry, 'utf8')).not.toMatch(/dist\/src\//);
    // Only ws's optional native speed-ups are left to node_modules (pkg/bundle.mjs's externals).
    expect(b.external.filter((p) => p !== 'bufferutil' && p !== 'utf-8-validate')).toEqual([]);

    const port = await freePort();
    const child = spawn(process.execPath, [b.entry, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => {
      child.kill('SIGKILL');
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`bundled broker not listening after 10 s: ${stderr}`)), 10_000);
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        if (d.includes('listening')) {
          clearTimeout(t);
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`bundled broker exited (${code}): ${stderr}`)));
    });

    cleanups.push(closeClients);
    const sub = await connectClient(`mqtt://127.0.0.1:${port}`);
    await sub.subscribeAsync('bench/i', { qos: 1 });
    const pub = await connectClient(`mqtt://127.0.0.1:${port}`);
    await pub.publishAsync('bench/i', 'bundled', { qos: 1 });
    const [m] = await collect(sub).next(1, 5000);
    expect(m?.payload.toString()).toBe('bundled');
    expect(stderr).toBe('');
  });
});
