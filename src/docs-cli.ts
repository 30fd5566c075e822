// `npm run docs`: regenerates docs/config-reference.md from the config schema.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinDrivers } from '../drivers/all.js';
import { configReferenceMarkdown } from './config/reference.js';
import { hostReferenceMarkdown } from './host/config.js';
import { packageRoot } from './package-root.js';

const file = join(packageRoot(), 'docs', 'config-reference.md');
writeFileSync(file, configReferenceMarkdown(builtinDrivers));
process.stdout.write(`wrote ${file}\n`);
const hostFile = join(packageRoot(), 'docs', 'host-reference.md');
writeFileSync(hostFile, hostReferenceMarkdown());
process.stdout.write(`wrote ${hostFile}\n`);
