// The flags of `fieldgate host run|export|write` (issue 14). src/cli.ts parses the whole command
// line first and must know them too (--config and --log-level are its own as well); a small
// module so it does not load the host to do so.
export const HOST_FLAGS = {
  config: { type: 'string', short: 'c' },
  'log-level': { type: 'string' },
  node: { type: 'string' },
  device: { type: 'string' },
  metric: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  format: { type: 'string' },
  timeout: { type: 'string' },
} as const;
