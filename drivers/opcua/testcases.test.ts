// Config regression cases: testcases/<case>/config.yaml and the errors (init.err) it must give.
// Behaviour against a server lives in opcua.test.ts: a node-opcua server is too heavy per case.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTestcases } from '../../test/helpers/testcases.js';

const CASES = join(fileURLToPath(new URL('.', import.meta.url)), 'testcases');

runTestcases('opcua testcases', CASES);
