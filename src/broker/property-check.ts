// MQTT 5 property blocks checked byte for byte before mqtt-packet parses them (issue 18 item
// 8): mqtt-packet reads a property that runs past the block's declared length into the
// payload, and turns invalid UTF-8 into replacement characters; such a message was stored and
// then could not be delivered to MQTT 5 clients. A malformed block is a Malformed Packet
// (0x81) [MQTT-1.5.4-1, MQTT-2.2.2-1]; the caller closes the connection.

type Kind = 'byte' | 'u16' | 'u32' | 'vbi' | 'utf8' | 'binary' | 'pair';

// MQTT 5.0 §2.2.2.2, every identifier with its data type.
const KINDS: Record<number, Kind> = {
  0x01: 'byte', 0x02: 'u32', 0x03: 'utf8', 0x08: 'utf8', 0x09: 'binary', 0x0b: 'vbi', 0x11: 'u32', 0x12: 'utf8',
  0x13: 'u16', 0x15: 'utf8', 0x16: 'binary', 0x17: 'byte', 0x18: 'u32', 0x19: 'byte', 0x1a: 'utf8', 0x1c: 'utf8',
  0x1f: 'utf8', 0x21: 'u16', 0x22: 'u16', 0x23: 'u16', 0x24: 'byte', 0x25: 'byte', 0x26: 'pair', 0x27: 'u32',
  0x28: 'byte', 0x29: 'byte', 0x2a: 'byte',
};
// May appear more than once: User Property, and Subscription Identifier (in server PUBLISHes).
const REPEATABLE = new Set([0x26, 0x0b]);

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A well-formed UTF-8 string without U+0000 [MQTT-1.5.4-1, MQTT-1.5.4-2]. */
function validString(b: Buffer, from: number, to: number): boolean {
  try {
    return !utf8.decode(b.subarray(from, to)).includes('\u0000');
  } catch {
    return false;
  }
}

function readVbi(b: Buffer, at: number, end: number): { value: number; next: number } | undefined {
  let value = 0;
  let mul = 1;
  for (let i = 0; i < 4; i++) {
    if (at + i >= end) return undefined;
    const byte = b[at + i] as number;
    value += (byte & 0x7f) * mul;
    if ((byte & 0x80) === 0) return { value, next: at + i + 1 };
    mul *= 128;
  }
  return undefined;
}

/** Checks the property block starting at `at` (its length first); returns why it is malformed, or undefined. */
export function checkPropertyBlock(b: Buffer, at: number, packetEnd: number): string | undefined {
  const len = readVbi(b, at, packetEnd);
  if (len === undefined) return 'malformed property length';
  const end = len.next + len.value;
  if (end > packetEnd) return 'property length past the end of the packet';
  const seen = new Set<number>();
  let i = len.next;
  const str = (): boolean => {
    if (i + 2 > end) return false;
    const n = b.readUInt16BE(i);
    if (i + 2 + n > end || !validString(b, i + 2, i + 2 + n)) return false;
    i += 2 + n;
    return true;
  };
  while (i < end) {
    const id = b[i] as number;
    i++;
    const kind = KINDS[id];
    if (kind === undefined) return `unknown property 0x${id.toString(16)}`;
    if (seen.has(id) && !REPEATABLE.has(id)) return `property 0x${id.toString(16)} given twice`;
    seen.add(id);
    switch (kind) {
      case 'byte': i += 1; break;
      case 'u16': i += 2; break;
      case 'u32': i += 4; break;
      case 'vbi': {
        const v = readVbi(b, i, end);
        if (v === undefined) return 'malformed variable byte integer property';
        i = v.next;
        break;
      }
      case 'binary': {
        if (i + 2 > end) return 'truncated binary property';
        i += 2 + b.readUInt16BE(i);
        break;
      }
      case 'utf8':
        if (!str()) return `malformed string property 0x${id.toString(16)}`;
        break;
      case 'pair':
        if (!str() || !str()) return 'malformed user property';
        break;
    }
    if (i > end) return `property 0x${id.toString(16)} runs past the property length`;
  }
  return undefined;
}

/** For an MQTT 5 PUBLISH frame (fixed header included): why its properties are malformed, or undefined. */
export function checkPublishProperties(frame: Buffer): string | undefined {
  let h = 1;
  while (h < frame.length && ((frame[h] as number) & 0x80) !== 0) h++;
  h++;
  if (h + 2 > frame.length) return undefined; // too short: mqtt-packet reports it
  const qos = ((frame[0] as number) >> 1) & 3;
  const at = h + 2 + frame.readUInt16BE(h) + (qos > 0 ? 2 : 0);
  if (at > frame.length) return undefined;
  return checkPropertyBlock(frame, at, frame.length);
}
