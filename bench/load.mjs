// Load generator worker: `node bench/load.mjs pub|sub <port> <clients> <qos> <payloadBytes> <seconds>`.
// Pre-encoded MQTT 3.1.1 packets over raw sockets, so the generator is never the bottleneck.
// Publisher i publishes to bench/i, subscriber i subscribes to bench/i: N->N pairs.
// Prints one JSON line: {role, messages, seconds}.
import net from 'node:net';
import mqtt from 'mqtt-packet';

const [role, portArg, clientsArg, qosArg, sizeArg, secondsArg] = process.argv.slice(2);
const port = Number(portArg);
const clients = Number(clientsArg);
const qos = Number(qosArg);
const size = Number(sizeArg);
const seconds = Number(secondsArg);
const WINDOW = 1000; // QoS 1 messages in flight per publisher

/** Yields whole MQTT packets from a byte stream (minimal framer: fixed header + remaining length). */
function framer(onPacket) {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    let buf = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let off = 0;
    for (;;) {
      if (buf.length - off < 2) break;
      let len = 0, mul = 1, i = off + 1, done = false;
      for (let n = 0; n < 4 && i < buf.length; n++, i++) {
        const b = buf[i];
        len += (b & 0x7f) * mul;
        mul *= 128;
        if ((b & 0x80) === 0) { done = true; i++; break; }
      }
      if (!done || i + len > buf.length) break;
      onPacket(buf, off, i, len);
      off = i + len;
    }
    pending = off < buf.length ? Buffer.from(buf.subarray(off)) : Buffer.alloc(0);
  };
}

function connect(clientId) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    s.setNoDelay(true);
    s.once('error', reject);
    s.once('connect', () => {
      s.write(mqtt.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId, clean: true, keepalive: 0 }));
      resolve(s);
    });
  });
}

async function subscriber(i, counts) {
  const s = await connect(`bench-sub-${i}-${process.pid}`);
  const ack = Buffer.from([0x40, 2, 0, 0]);
  let subscribed;
  const ready = new Promise((r) => (subscribed = r));
  s.on('data', framer((buf, start, body, len) => {
    const type = buf[start] >> 4;
    if (type === 3) {
      counts.messages++;
      if (((buf[start] >> 1) & 3) > 0) {
        const topicLen = buf.readUInt16BE(body);
        const id = buf.readUInt16BE(body + 2 + topicLen);
        const a = Buffer.from(ack);
        a.writeUInt16BE(id, 2);
        s.write(a);
      }
    } else if (type === 9) subscribed();
  }));
  s.write(mqtt.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: `bench/${i}`, qos }] }));
  await ready;
  return s;
}

async function publisher(i, counts, stopAt) {
  const s = await connect(`bench-pub-${i}-${process.pid}`);
  const payload = Buffer.alloc(size, 0x61);
  if (qos === 0) {
    // 100 packets per write: fewer syscalls, same bytes on the wire.
    const one = mqtt.generate({ cmd: 'publish', topic: `bench/${i}`, payload, qos: 0, dup: false, retain: false });
    const batch = Buffer.concat(Array.from({ length: 100 }, () => one));
    await new Promise((resolve) => {
      const pump = () => {
        while (Date.now() < stopAt) {
          counts.messages += 100;
          if (!s.write(batch)) return s.once('drain', pump);
        }
        resolve();
      };
      pump();
      // A broker that stops reading (aedes does, under backpressure) must not hang the run.
      setTimeout(resolve, stopAt - Date.now() + 50);
    });
  } else {
    // Pre-encoded with ids 1..WINDOW; a PUBACK frees its id for the same pre-encoded packet.
    const packets = Array.from({ length: WINDOW }, (_, k) => mqtt.generate({ cmd: 'publish', topic: `bench/${i}`, payload, qos: 1, messageId: k + 1, dup: false, retain: false }));
    let inflight = 0;
    await new Promise((resolve) => {
      let next = 0;
      const fill = () => {
        const out = [];
        while (inflight < WINDOW && Date.now() < stopAt) {
          out.push(packets[next]);
          next = (next + 1) % WINDOW;
          inflight++;
          counts.messages++;
        }
        if (out.length > 0) s.write(out.length === 1 ? out[0] : Buffer.concat(out));
        if (Date.now() >= stopAt) resolve();
      };
      s.on('data', framer((buf, start) => {
        if (buf[start] >> 4 === 4) inflight--;
        if (inflight <= WINDOW / 2) fill();
      }));
      fill();
      setTimeout(resolve, stopAt - Date.now() + 50);
    });
  }
  return s;
}

const counts = { messages: 0 };
if (role === 'sub') {
  const sockets = await Promise.all(Array.from({ length: clients }, (_, i) => subscriber(i, counts)));
  process.stdout.write('ready\n');
  // Counting starts when the orchestrator says go, and stops when it says stop.
  process.stdin.setEncoding('utf8');
  let startCount = 0, t0 = 0;
  process.stdin.on('data', (cmd) => {
    if (cmd.includes('go')) { startCount = counts.messages; t0 = performance.now(); }
    if (cmd.includes('stop')) {
      const elapsed = (performance.now() - t0) / 1000;
      process.stdout.write(JSON.stringify({ role, messages: counts.messages - startCount, seconds: elapsed }) + '\n');
      for (const s of sockets) s.destroy();
      process.exit(0);
    }
  });
} else {
  const stopAt = Date.now() + seconds * 1000;
  const t0 = performance.now();
  const sockets = await Promise.all(Array.from({ length: clients }, (_, i) => publisher(i, counts, stopAt)));
  process.stdout.write(JSON.stringify({ role, messages: counts.messages, seconds: (performance.now() - t0) / 1000 }) + '\n');
  for (const s of sockets) s.destroy();
  process.exit(0);
}
