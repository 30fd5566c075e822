// Types for bundled-broker.mjs (imported by test/bench-bundled-broker.test.ts).
export interface BundledBroker {
  /** The bundled bench entry: `node <entry> <port>` runs the broker. */
  entry: string;
  /** Output files (entry and chunks) and their total size. */
  files: number;
  kib: number;
  /** Packages the bundle leaves to node_modules (Node's built-ins not listed). */
  external: string[];
}
export function bundleBroker(dir: string): Promise<BundledBroker>;
