import mqtt from 'mqtt';
import { it } from 'vitest';
import { RabbitMq } from './helpers/rabbitmq.js';
it('probe', async () => {
  const t0 = Date.now();
  const r = await RabbitMq.start();
  console.log('started in', Date.now() - t0);
  try {
    const c = mqtt.connect(r.url, { protocolVersion: 5, reconnectPeriod: 0, clientId: 'p5' });
    await new Promise<void>((res) => {
      c.on('connect', (ck) => { console.log('CONNACK', ck); });
      c.on('error', (e) => console.log('ERROR', e.message, (e as any).code));
      c.on('close', () => { console.log('CLOSE'); res(); });
      setTimeout(res, 5000);
    });
    c.end(true);
    try { console.log(r.ctl('status').slice(0, 200)); } catch (e) { console.log('CTL FAIL', String((e as any).stderr ?? e)); }
    try { console.log(r.ctl('set_topic_permissions', '-p', '/', 'guest', 'amq.topic', '^(?!fieldgate\\.fence).*$', '.*')); } catch (e) { console.log('CTL2 FAIL', String((e as any).stderr ?? e)); }
    const c4 = mqtt.connect(r.url, { protocolVersion: 4, reconnectPeriod: 0, clientId: 'p4' });
    await new Promise<void>((res) => c4.on('connect', () => res()));
    c4.publish('a/b', 'x', { qos: 1 }, (e) => console.log('puback a/b', e?.message));
    await new Promise((res) => setTimeout(res, 300));
    const t1 = Date.now();
    c4.on('close', () => console.log('CLOSE4 after', Date.now() - t1));
    c4.on('error', (e) => console.log('ERROR4', e.message));
    c4.publish('fieldgate/fence/g/n', 'x', { qos: 1 }, (e) => console.log('puback fence', e?.message));
    await new Promise((res) => setTimeout(res, 1000));
    const t2 = Date.now(); await r.kill9(); console.log('kill9', Date.now() - t2);
    const t3 = Date.now(); await r.restart(); console.log('restart', Date.now() - t3);
  } finally { await r.stop(); }
}, 180_000);
