import { readFileSync } from 'node:fs';

const BEGIN = '<!-- install-steps:begin -->';
const END = '<!-- install-steps:end -->';

/**
 * The operator guide's install block as a shell script: the fenced lines between the markers,
 * unchanged. The package test runs this text, so the guide cannot drift from what works.
 */
export function installSteps(guidePath: string): string {
  const text = readFileSync(guidePath, 'utf8');
  const b = text.indexOf(BEGIN);
  const e = text.indexOf(END);
  if (b < 0 || e < b) throw new Error(`${guidePath}: no ${BEGIN} ... ${END} block`);
  const lines = text.slice(b + BEGIN.length, e).split('\n');
  const open = lines.findIndex((l) => /^```(sh|bash)?\s*$/.test(l));
  const close = lines.findIndex((l, i) => i > open && /^```\s*$/.test(l));
  if (open < 0 || close < 0) throw new Error(`${guidePath}: the install block has no fenced sh code`);
  return lines.slice(open + 1, close).join('\n') + '\n';
}
