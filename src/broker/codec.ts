// Fast paths for the packets that dominate a busy broker: PUBLISH without properties and the
// two-byte acks. Anything else, or anything unusual, returns undefined and goes through
// mqtt-packet, which remains the reference for validation. Measured in bench/: mqtt-packet's
// generic parser and generator cost more than the rest of the PUBLISH path together.
import type { IPublishPacket, Packet } from 'mqtt-packet';
import { MAX_VARIABLE_BYTE_INTEGER, variableByteIntegerLength, writeVariableByteInteger } from '../mqtt/variable-byte-integer.js';

const ACKS: Record<number, { cmd: 'puback' | 'pubrec' | 'pubrel' | 'pubcomp'; flags: number }> = {
  4: { cmd: 'puback', flags: 0 },
  5: { cmd: 'pubrec', flags: 0 },
  6: { cmd: 'pubrel', flags: 2 }, // PUBREL's reserved flags are 0010 [MQTT-3.6.1-1]
  7: { cmd: 'pubcomp', flags: 0 },
};

/** Decodes a whole frame, or returns undefined to let mqtt-packet decide. */
export function decodeFast(frame: Buffer, protocolVersion: number): Packet | undefined {
  const b0 = frame[0] as number;
  const type = b0 >> 4;
  // Remaining Length (1-4 bytes); the framer has already checked it matches the frame.
  let h = 1;
  while (((frame[h] as number) & 0x80) !== 0) h++;
  h++;
  const remaining = frame.length - h;
  if (type === 3) return decodePublish(frame, b0, h, protocolVersion);
  const ack = ACKS[type];
  if (ack !== undefined) {
    if ((b0 & 0x0f) !== ack.flags || remaining !== 2) return undefined;
    return { cmd: ack.cmd, messageId: frame.readUInt16BE(h) };
  }
  if (b0 === 0xc0 && remaining === 0) return { cmd: 'pingreq' };
  return undefined;
}

function decodePublish(frame: Buffer, b0: number, h: number, protocolVersion: number): IPublishPacket | undefined {
  const qos = (b0 >> 1) & 3;
  if (qos === 3) return undefined; // malformed [MQTT-3.3.1-4]: mqtt-packet reports it
  if (frame.length < h + 2) return undefined;
  const topicLength = frame.readUInt16BE(h);
  let pos = h + 2 + topicLength;
  if (pos > frame.length) return undefined;
  const topic = frame.toString('utf8', h + 2, pos);
  let messageId: number | undefined;
  if (qos > 0) {
    if (pos + 2 > frame.length) return undefined;
    messageId = frame.readUInt16BE(pos);
    pos += 2;
  }
  if (protocolVersion === 5) {
    if (pos >= frame.length || frame[pos] !== 0) return undefined; // properties present: mqtt-packet
    pos += 1;
  }
  const packet: IPublishPacket = {
    cmd: 'publish',
    topic,
    // A copy, so a retained or queued message does not pin the whole socket chunk in memory.
    payload: Buffer.from(frame.subarray(pos)),
    qos: qos as 0 | 1 | 2,
    dup: (b0 & 0x08) !== 0,
    retain: (b0 & 0x01) !== 0,
  };
  if (messageId !== undefined) packet.messageId = messageId;
  return packet;
}

/** Encodes a PUBLISH that carries no properties; undefined when it has some. */
export function encodePublishFast(p: IPublishPacket, protocolVersion: number): Buffer | undefined {
  if (p.properties !== undefined) return undefined;
  const payload = typeof p.payload === 'string' ? Buffer.from(p.payload) : p.payload;
  const topicLength = Buffer.byteLength(p.topic);
  const hasId = p.qos > 0;
  const remaining = 2 + topicLength + (hasId ? 2 : 0) + (protocolVersion === 5 ? 1 : 0) + payload.length;
  if (remaining > MAX_VARIABLE_BYTE_INTEGER) return undefined;
  const out = Buffer.allocUnsafe(1 + variableByteIntegerLength(remaining) + remaining);
  out[0] = 0x30 | (p.dup ? 0x08 : 0) | (p.qos << 1) | (p.retain ? 1 : 0);
  let pos = writeVariableByteInteger(out, 1, remaining);
  out.writeUInt16BE(topicLength, pos);
  pos += 2;
  pos += out.write(p.topic, pos, 'utf8');
  if (hasId) {
    out.writeUInt16BE(p.messageId ?? 0, pos);
    pos += 2;
  }
  if (protocolVersion === 5) out[pos++] = 0;
  payload.copy(out, pos);
  return out;
}
