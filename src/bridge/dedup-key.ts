// The dedup key: which edge node, which store epoch, which outbox sequence. Stamped on every
// upstream message so a central consumer can drop replayed duplicates (docs/dedup.md).

export interface DedupKey {
  /** Edge node identity, `group/edgeNode` for Sparkplug. Must not be empty. */
  node: string;
  /** The store epoch: a new one whenever the outbox starts from an empty file. */
  epoch: string;
  seq: number;
}

/** MQTT 5 user property that carries the key [MQTT-3.3.2.3.7]. */
export const DEDUP_USER_PROPERTY = 'fg-dedup';

/**
 * Protobuf field number of the key inside a Sparkplug B payload. The Payload message declares
 * `extensions 6 to max` for third parties; 17991 (0x4647, "FG") keeps clear of the low numbers
 * a future Sparkplug revision would take. Decoders that do not know it skip it, as protobuf
 * requires for unknown fields.
 */
export const SPARKPLUG_DEDUP_FIELD = 17991;

/** `<node>/<epoch>/<seq>`; the node may itself contain '/', epoch and seq never do. */
export function formatDedupKey(k: DedupKey): string {
  return `${k.node}/${k.epoch}/${k.seq}`;
}

export function parseDedupKey(text: string): DedupKey | undefined {
  const parts = text.split('/');
  if (parts.length < 3) return undefined;
  const seqText = parts.pop() as string;
  const epoch = parts.pop() as string;
  const node = parts.join('/');
  if (!/^[0-9]{1,16}$/.test(seqText) || epoch === '' || node === '') return undefined;
  const seq = Number(seqText);
  if (!Number.isSafeInteger(seq)) return undefined;
  return { node, epoch, seq };
}

// --- the Sparkplug form -----------------------------------------------------------------

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

/**
 * Appends the key as a length-delimited field to an encoded Sparkplug B Payload. Protobuf
 * encodings concatenate, so the result is the same message plus one extension field; the
 * Sparkplug `seq` (0-255, owned by the MQTT session) is untouched.
 */
export function appendSparkplugDedupField(payload: Uint8Array, key: DedupKey): Buffer {
  const value = Buffer.from(formatDedupKey(key));
  const tag = varint(SPARKPLUG_DEDUP_FIELD * 8 + 2);
  return Buffer.concat([payload, tag, varint(value.length), value]);
}

interface Cursor {
  buf: Uint8Array;
  pos: number;
}

function readVarint(c: Cursor): number {
  let result = 0;
  let mul = 1;
  // Protobuf varints are at most 10 bytes; a longer one is malformed.
  for (let i = 0; i < 10; i++) {
    if (c.pos >= c.buf.length) throw new RangeError('truncated varint');
    const b = c.buf[c.pos++] as number;
    result += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return result;
    mul *= 128;
  }
  throw new RangeError('varint longer than 10 bytes');
}

/**
 * Reads the key back from a Sparkplug B payload by walking its top-level fields. Returns
 * undefined when absent or when the payload is not a well-formed protobuf message.
 */
export function readSparkplugDedupField(payload: Uint8Array): DedupKey | undefined {
  const c: Cursor = { buf: payload, pos: 0 };
  let found: DedupKey | undefined;
  try {
    // Bounded by the payload length: every field consumes at least one byte.
    while (c.pos < payload.length) {
      const tag = readVarint(c);
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      if (wire === 0) readVarint(c);
      else if (wire === 1) c.pos += 8;
      else if (wire === 5) c.pos += 4;
      else if (wire === 2) {
        const len = readVarint(c);
        const start = c.pos;
        c.pos += len;
        if (c.pos > payload.length) return undefined;
        if (field === SPARKPLUG_DEDUP_FIELD) {
          found = parseDedupKey(Buffer.from(payload.subarray(start, c.pos)).toString('utf8'));
        }
      } else return undefined;
    }
    return c.pos === payload.length ? found : undefined;
  } catch {
    return undefined;
  }
}

/** The key of a received message: the MQTT 5 user property first, then the Sparkplug field. */
export function extractDedupKey(message: {
  payload: Uint8Array;
  userProperties?: Record<string, string | string[]> | undefined;
}): DedupKey | undefined {
  const prop = message.userProperties?.[DEDUP_USER_PROPERTY];
  const text = Array.isArray(prop) ? prop[0] : prop;
  if (text !== undefined) {
    const k = parseDedupKey(text);
    if (k !== undefined) return k;
  }
  return readSparkplugDedupField(message.payload);
}
