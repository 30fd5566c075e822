// Containment on the encode path (issue 12): one value that does not fit its metric's datatype
// (a driver bug, a type the config did not resolve) used to throw out of the drain and kill
// the process. The message is encoded once as usual; only when that throws is each metric
// tried alone, and the ones that cannot be encoded go out as null with quality BAD.
import type { SpPayload } from './payload.js';
import { encodePayload } from './payload.js';

export interface EncodableMetric {
  value: unknown;
  quality: string;
}

export function encodeContained<M extends EncodableMetric>(
  metrics: readonly M[],
  build: (metrics: M[]) => SpPayload,
  onBad: (metric: M, error: unknown) => void,
): Buffer {
  try {
    return Buffer.from(encodePayload(build([...metrics])));
  } catch {
    const safe = metrics.map((m): M => {
      try {
        encodePayload(build([m]));
        return m;
      } catch (e) {
        onBad(m, e);
        return { ...m, value: null, quality: 'BAD', ...('qualityChanged' in m ? { qualityChanged: true } : {}) };
      }
    });
    return Buffer.from(encodePayload(build(safe)));
  }
}
