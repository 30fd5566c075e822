// Config regression cases: testcases/<case>/config.yaml and the errors (init.err) it must give.
// Behaviour against a server lives in opcua.test.ts: a node-opcua server is too heavy per case.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { builtinDrivers } from '../all.js';
import { ConfigError, loadConfigFile } from '../../src/config/load.js';

const CASES = join(fileURLToPath(new URL('.', import.meta.url)), 'testcases');

describe('opcua testcases', () => {
  for (const name of readdirSync(CASES).sort()) {
    it(name, () => {
      let message = '';
      try {
        loadConfigFile(join(CASES, name, 'config.yaml'), builtinDrivers);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        message = (e as Error).message;
      }
      for (const line of readFileSync(join(CASES, name, 'init.err'), 'utf8').trim().split('\n')) expect(message).toContain(line);
    });
  }
});
