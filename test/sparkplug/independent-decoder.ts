// A Sparkplug decoder that shares no code with ours: protobufjs' reflection parser reading
// the official sparkplug_b.proto (eclipse/tahu, EPL-2.0, copied verbatim into test/fixtures/third_party/tahu).
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const root = protobuf.loadSync(fileURLToPath(new URL('../fixtures/third_party/tahu/sparkplug_b.proto', import.meta.url)));
const Payload = root.lookupType('org.eclipse.tahu.protobuf.Payload');

/** Plain object with 64-bit fields as decimal strings and bytes as Buffers. */
export function decodeIndependently(bytes: Uint8Array): Record<string, unknown> & { metrics?: Array<Record<string, unknown>> } {
  const msg = Payload.decode(bytes);
  return Payload.toObject(msg, { longs: String, bytes: Buffer, defaults: false }) as Record<string, unknown> & { metrics?: Array<Record<string, unknown>> };
}
