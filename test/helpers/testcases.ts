// The drivers' Telegraf-style regression folders, walked by one runner: testcases/<case>/ holds
// config.yaml and either init.err (errors the loader must report) or what the driver's own
// check reads (input.txt + expected.out, actions.json...). One test per case, sorted by name.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinDrivers } from '../../drivers/all.js';
import { ConfigError, loadConfigFile } from '../../src/config/load.js';

export interface TestcaseChecks {
  /** A case without init.err: the driver's own check. Without one, every case needs init.err. */
  run?: (caseDir: string) => Promise<void> | void;
  /** A case with init.err; by default every line of it must appear in the loader's error. */
  errors?: (caseDir: string, errFile: string) => Promise<void> | void;
}

/** Every line of init.err appears in the ConfigError that loading config.yaml gives. */
export function expectInitErrors(caseDir: string, errFile: string): void {
  let message = '';
  try {
    loadConfigFile(join(caseDir, 'config.yaml'), builtinDrivers);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    message = (e as Error).message;
  }
  for (const line of readFileSync(errFile, 'utf8').trim().split('\n')) expect(message).toContain(line);
}

export function runTestcases(title: string, dir: string, checks: TestcaseChecks = {}): void {
  describe(title, () => {
    for (const name of readdirSync(dir).sort()) {
      it(name, async () => {
        const caseDir = join(dir, name);
        const errFile = join(caseDir, 'init.err');
        if (existsSync(errFile) || checks.run === undefined) await (checks.errors ?? expectInitErrors)(caseDir, errFile);
        else await checks.run(caseDir);
      });
    }
  });
}
