// The status page in a real browser: Debian's chromium, driven by playwright-core, opens the
// page of a real `fieldgate run` on a copy of the demo (free ports, a temp store, the tank's
// fault sooner and shorter), sees values move, the tank go offline with its tags BAD and come
// back, and saves a screenshot in test/artifacts/. The demo copy also carries a string tag
// whose value is markup: the browser must show it as text.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ROOT, startCli, type RunningCli } from './helpers/cli.js';
import { freePort } from './helpers/ports.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test', 'artifacts');
const MARKUP = '<img src=x onerror="document.title=\'pwned\'">';

let dir = '';
let cli: RunningCli | undefined;
let context: BrowserContext | undefined;
let page: Page | undefined;
let url = '';
const problems: string[] = [];

/** demo.yaml with its ports, store and fault timing changed for a short test. */
function demoCopy(httpPort: number, brokerPort: number): string {
  // The parsed demo is plain data; typed loosely on purpose, the schema checks it at load.
  const demo = parse(readFileSync(join(ROOT, 'config', 'demo.yaml'), 'utf8')) as any;
  demo.observe.http.port = httpPort;
  demo.observe.logSamples = false;
  demo.broker.listeners[0].port = brokerPort;
  demo.store.path = join(dir, 'fieldgate.db');
  const tank = demo.devices.find((d: { name: string }) => d.name === 'tank-01');
  tank.connection.faults = [{ after: '3s', for: '4s', every: '30s' }];
  const pump = demo.devices.find((d: { name: string }) => d.name === 'pump-01');
  pump.tags.push({ name: 'label', type: 'string', signal: { kind: 'states', values: [MARKUP], period: '1s' } });
  return stringify(demo);
}

const cellText = (p: Page, tag: string, cell: string) => p.locator(`tr[data-tag="${tag}"] td.${cell}`).innerText();
const deviceState = (p: Page, dev: string) => p.locator(`[data-device="${dev}"] [data-field="state"]`).innerText();

describe('status page in chromium against a running demo', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fg-status-browser-'));
    // The browser first: it takes seconds to start, and the tank's fault begins 3 s after the demo.
    context = await chromium.launchPersistentContext(join(dir, 'chromium-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      // The closed network would otherwise leave chromium waiting on Google services.
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1100, height: 900 },
    });
    page = await context.newPage();
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    // CSP violations and failed loads arrive as console errors.
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('dialog', (d) => {
      problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });

    const [httpPort, brokerPort] = [await freePort(), await freePort()];
    const site = join(dir, 'site.yaml');
    writeFileSync(site, demoCopy(httpPort, brokerPort));
    cli = startCli(['run', '--config', site, '--log-level', 'info'], { cwd: dir });
    await cli.waitFor((l) => l.includes('gateway started'), 15_000);
    url = `http://127.0.0.1:${httpPort}/`;
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    if (cli !== undefined && cli.child.exitCode === null) {
      cli.child.kill('SIGKILL');
      await cli.exited;
    }
  });

  it('shows live values, the tank going offline with BAD tags and coming back, and markup as text', async () => {
    const p = page!;
    await p.goto(url);
    await expect.poll(() => p.locator('#link').innerText()).toBe('live');
    expect(await p.title()).toBe('fieldgate status');
    await expect.poll(() => deviceState(p, 'pump-01')).toBe('online');

    // Live: the flow (a 60 s sine, reported past a 0.2 deadband) changes on screen, no reload.
    const flow0 = await cellText(p, 'pump-01/flow', 'value');
    expect(Number(flow0)).toBeGreaterThan(0);
    await expect.poll(() => cellText(p, 'pump-01/flow', 'value'), { timeout: 10_000 }).not.toBe(flow0);
    expect(await cellText(p, 'pump-01/flow', 'quality')).toBe('GOOD');

    // Markup from a device is shown as text and creates no element.
    expect(await cellText(p, 'pump-01/label', 'value')).toBe(MARKUP);
    expect(await p.locator('img').count()).toBe(0);

    // The fault: tank-01 offline, both its tags BAD, pump-01 unaffected.
    await expect.poll(() => deviceState(p, 'tank-01'), { timeout: 40_000, interval: 100 }).toBe('offline');
    await expect.poll(() => cellText(p, 'tank-01/level', 'quality')).toBe('BAD');
    expect(await cellText(p, 'tank-01/temperature', 'quality')).toBe('BAD');
    expect(await deviceState(p, 'pump-01')).toBe('online');
    expect(await p.locator('[data-device="tank-01"] [data-field="error"]').innerText()).toMatch(/^last error: /);
    mkdirSync(ARTIFACTS, { recursive: true });
    await p.screenshot({ path: join(ARTIFACTS, 'status-page.png'), fullPage: true });

    // And back: online, GOOD again.
    await expect.poll(() => deviceState(p, 'tank-01'), { timeout: 15_000 }).toBe('online');
    await expect.poll(() => cellText(p, 'tank-01/level', 'quality')).toBe('GOOD');
    await p.screenshot({ path: join(ARTIFACTS, 'status-page-recovered.png'), fullPage: true });

    expect(await p.title()).toBe('fieldgate status');
    expect(problems).toEqual([]);
  }, 90_000);

  it('stops within 2 s with the browser still streaming, and the page says so', async () => {
    const t0 = Date.now();
    cli!.child.kill('SIGINT');
    const exit = await cli!.exited;
    expect(exit.code).toBe(0);
    expect(exit.at - t0).toBeLessThan(2_000);
    await expect.poll(() => page!.locator('#link').innerText()).toBe('disconnected, retrying');
  });
});
