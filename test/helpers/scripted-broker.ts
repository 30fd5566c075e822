// A tiny MQTT 5 server for fault tests, built on mqtt-packet: CONNACK with chosen properties,
// and a PUBACK reason code chosen per PUBLISH. Just enough to script what real brokers do
// rarely (refusals, quotas) on demand.
import net, { type AddressInfo, type Socket } from 'node:net';
import mqttPacket from 'mqtt-packet';

export interface ScriptedBroker {
  url: string;
  connections: () => number;
  published: Array<{ topic: string; messageId: number | undefined }>;
  close(): Promise<void>;
}

export async function startScriptedBroker(pubackReason: (topic: string, nth: number) => number): Promise<ScriptedBroker> {
  const sockets = new Set<Socket>();
  const published: ScriptedBroker['published'] = [];
  let connections = 0;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    connections++;
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const parser = mqttPacket.parser({ protocolVersion: 5 });
    const send = (packet: object) => socket.write(mqttPacket.generate(packet as mqttPacket.Packet, { protocolVersion: 5 }));
    parser.on('packet', (p: mqttPacket.Packet) => {
      if (p.cmd === 'connect') send({ cmd: 'connack', sessionPresent: false, reasonCode: 0, properties: {} });
      else if (p.cmd === 'publish') {
        published.push({ topic: p.topic, messageId: p.messageId });
        if (p.qos === 1) send({ cmd: 'puback', messageId: p.messageId, reasonCode: pubackReason(p.topic, published.length) });
      } else if (p.cmd === 'pingreq') send({ cmd: 'pingresp' });
    });
    parser.on('error', () => socket.destroy());
    socket.on('data', (d: Buffer) => parser.parse(d));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    published,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
