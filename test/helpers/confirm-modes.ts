// The `upstream.confirm` modes (issue 13) a mode-parametrized test runs in. Issue 13: "the
// existing outage, kill -9, budget and Sparkplug tests pass in every mode". The default suite
// runs them in the default mode only (its time stays flat); the interop suite runs the same
// files in the other modes (vitest.interop.config.ts sets FG_CONFIRM_MODES=fence,host).
import type { BridgeOptions } from '../../src/bridge/bridge.js';

export type ConfirmMode = 'qos1' | 'fence' | 'host';

const ALL: readonly ConfirmMode[] = ['qos1', 'fence', 'host'];

/** FG_CONFIRM_MODES (comma-separated), else the default mode alone. */
export function confirmModes(): ConfirmMode[] {
  const raw = process.env.FG_CONFIRM_MODES;
  if (raw === undefined || raw.trim() === '') return ['qos1'];
  const modes = raw.split(',').map((m) => m.trim());
  for (const m of modes) if (!ALL.includes(m as ConfirmMode)) throw new Error(`FG_CONFIRM_MODES: unknown mode ${m}`);
  return modes as ConfirmMode[];
}

/**
 * Bridge options for a mode, for the node `g/node` unless told otherwise. host: records sent
 * before the test's consumer subscribed are sent again after 500 ms (host-stall.ts), not 60 s.
 */
export function confirmOptions(mode: ConfirmMode, node = 'g/node'): Pick<BridgeOptions, 'confirm'> & Partial<Pick<BridgeOptions, 'fenceTopic' | 'hostResendAfterMs'>> {
  if (mode === 'fence') return { confirm: mode, fenceTopic: `fieldgate/fence/${node}` };
  return mode === 'host' ? { confirm: mode, hostResendAfterMs: 500 } : { confirm: mode };
}
