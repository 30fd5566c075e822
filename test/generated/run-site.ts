// Runs one generated site file through the property of issue 12: if `validate` accepts it, the
// gateway runs without an uncaught exception, every tag ends GOOD (or UNCERTAIN) or carries a
// per-tag reason, every DBIRTH carries values (a null only with quality BAD: said honestly),
// and the Sparkplug stream keeps the device lifecycle. Many run at once in lanes, each lane
// with its own pty instrument, all sharing one Modbus and one OPC UA server.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinDrivers } from '../../drivers/all.js';
import { ConfigError, parseConfigText } from '../../src/config/load.js';
import { Gateway } from '../../src/gateway.js';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/observe/logger.js';
import { decodeIndependently } from '../sparkplug/independent-decoder.js';
import { lifecycleViolations, type Captured } from '../lifecycle/capture.js';
import type { GeneratedSite } from './site-arbitrary.js';

export interface SiteOutcome {
  accepted: boolean;
  /** Property violations; empty when the property holds. */
  problems: string[];
  devicesOnline: number;
  devices: number;
}

export interface RunOptions {
  /** How long the gateway runs once every device is online or has failed with a reason. */
  runMs: number;
  /** Bound on waiting for that. */
  settleMs: number;
}

const QUALITY_BAD = 0;

export async function runSite(site: GeneratedSite, o: RunOptions): Promise<SiteOutcome> {
  const dir = mkdtempSync(join(tmpdir(), 'fg-gen-'));
  try {
    const text = `${site.yaml}store: { path: ${JSON.stringify(join(dir, 'fg.db'))} }\n`;
    let config;
    try {
      config = parseConfigText(text, join(dir, 'site.yaml'), builtinDrivers);
    } catch (e) {
      if (e instanceof ConfigError) return { accepted: false, problems: [], devicesOnline: 0, devices: 0 };
      return { accepted: true, problems: [`validate threw ${String(e)}`], devicesOnline: 0, devices: 0 };
    }
    // A contained fault is still a bug when the file is valid and the peers answer: collect them.
    const faults: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n')) {
          if (/FG_ERR_(DEVICE_FAULT|TAG_VALUE)/.test(line)) faults.push(line.slice(0, 400));
        }
        done();
      },
    });
    const gw = new Gateway({ config, drivers: builtinDrivers, logger: createLogger({ level: 'error', destination: sink }) });
    const captured: Captured[] = [];
    await gw.start();
    try {
      gw.localBroker?.subscribe('spBv1.0/#', (m) => {
        const parts = m.topic.split('/');
        captured.push({ type: parts[2] ?? '', device: parts[4], p: decodeIndependently(m.payload) });
      });
      const enabled = config.devices.filter((d) => d.enabled).length;
      const settled = () => gw.runtime.devices().every((d) => d.state === 'online' || (d.state === 'offline' && d.lastError !== undefined));
      const start = Date.now();
      while (!settled() && Date.now() - start < o.settleMs) await new Promise((r) => setTimeout(r, 25));
      await new Promise((r) => setTimeout(r, o.runMs));
      // A device that came online at the very end (a loaded box) has its DBIRTH one drain away.
      const born = (name: string) => captured.some((m) => m.type === 'DBIRTH' && m.device === name);
      const bornWait = Date.now();
      while (gw.runtime.devices().some((d) => d.state === 'online' && !born(d.name)) && Date.now() - bornWait < 3000) await new Promise((r) => setTimeout(r, 25));
      const problems: string[] = [];
      const snapshot = gw.runtime.devices();
      for (const d of snapshot) {
        for (const t of d.tags) {
          if (t.quality === 'GOOD' || t.quality === 'UNCERTAIN') continue;
          if (t.reason === undefined && d.lastError === undefined) problems.push(`${d.name}/${t.name} is ${t.quality} with no reason (device ${d.state})`);
        }
        if (d.state === 'online' && !captured.some((m) => m.type === 'DBIRTH' && m.device === d.name)) problems.push(`${d.name} is online but never born`);
      }
      for (const m of captured) {
        if (m.type !== 'DBIRTH') continue;
        for (const metric of m.p.metrics ?? []) {
          if (metric.isNull !== true) continue;
          const props = metric.properties as { keys?: string[]; values?: Array<{ intValue?: number }> } | undefined;
          const q = props?.values?.[props.keys?.indexOf('Quality') ?? -1]?.intValue;
          if (q !== QUALITY_BAD) problems.push(`DBIRTH of ${m.device}: ${String(metric.name)} is null without quality BAD`);
        }
      }
      problems.push(...lifecycleViolations(captured), ...faults);
      return { accepted: true, problems, devicesOnline: snapshot.filter((d) => d.state === 'online').length, devices: enabled };
    } finally {
      await gw.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs every site of every lane, lanes in parallel; returns the outcomes with their sites. */
export async function runLanes(lanes: GeneratedSite[][], o: RunOptions, onOutcome?: (site: GeneratedSite, out: SiteOutcome) => void): Promise<Array<{ site: GeneratedSite; out: SiteOutcome }>> {
  const results: Array<{ site: GeneratedSite; out: SiteOutcome }> = [];
  await Promise.all(lanes.map(async (sites) => {
    for (const site of sites) {
      const out = await runSite(site, o);
      results.push({ site, out });
      onOutcome?.(site, out);
    }
  }));
  return results;
}
