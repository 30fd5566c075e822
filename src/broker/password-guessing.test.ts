// Issue 18 item 5: an unknown user costs the same as a wrong password (no username
// enumeration by timing); a source that keeps guessing is held to <= 5 guesses a second while
// other sources log in at once; failures are logged at warn, one summary a minute.
import net from 'node:net';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { useBroker } from '../../test/helpers/broker.js';
import { captureLogger } from '../../test/helpers/log-capture.js';
import type { Broker } from './index.js';
import { hashPassword } from './index.js';

let broker: Broker | undefined;
const startBroker = useBroker();

/** One CONNECT from `localAddress`; resolves with the CONNACK return code and when it came. */
function attempt(port: number, username: string, password: string, localAddress = '127.0.0.1'): Promise<{ code: number; at: number }> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress });
    s.on('error', reject);
    const parser = mqttPacket.parser();
    parser.on('packet', (p) => {
      if (p.cmd === 'connack') {
        resolve({ code: p.returnCode ?? -1, at: Date.now() });
        s.destroy();
      }
    });
    s.on('data', (d: Buffer) => parser.parse(d));
    s.once('close', () => reject(new Error('closed without CONNACK')));
    s.once('connect', () => s.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: '', clean: true, keepalive: 30, username, password: Buffer.from(password) })));
  });
}

async function start(logger = captureLogger('info').logger) {
  const s = await startBroker({
    users: [{ username: 'operator', passwordHash: await hashPassword('right', { N: 4096, r: 8, p: 1 }) }],
    limits: { connectionsPerSecondPerAddress: 0, maxPendingPerAddress: 200, connectTimeout: '30s' },
  }, { logger });
  broker = s.broker;
  return s;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

describe('password guessing (issue 18)', () => {
  it('an unknown user is answered no faster than a wrong password', async () => {
    const s = await start();
    const time = async (user: string, address: string) => {
      const t0 = performance.now();
      const r = await attempt(s.port, user, 'wrong', address);
      expect(r.code).toBe(4);
      return performance.now() - t0;
    };
    const wrong: number[] = [];
    const unknown: number[] = [];
    // Different sources, so back-off does not enter the measurement; interleaved against load drift.
    for (let i = 0; i < 6; i++) {
      wrong.push(await time('operator', `127.0.1.${i + 1}`));
      unknown.push(await time(`nobody-${i}`, `127.0.2.${i + 1}`));
    }
    console.info(`auth timing: wrong password median ${median(wrong).toFixed(1)} ms, unknown user median ${median(unknown).toFixed(1)} ms`);
    expect(median(unknown)).toBeGreaterThan(median(wrong) * 0.5);
  });

  it('holds a guessing source to <= 5 guesses/s while another source logs in at once; warns once', async () => {
    const { logger, lines } = captureLogger('info');
    const s = await start(logger);
    const guesses = await Promise.all(Array.from({ length: 16 }, (_, i) => attempt(s.port, 'operator', `guess-${i}`, '127.0.0.9')));
    expect(guesses.every((g) => g.code === 4)).toBe(true);
    const times = guesses.map((g) => g.at).sort((a, b) => a - b);
    // Past the first failures, the answers are spaced: 11 more guesses take >= 10 * 200 ms.
    const spaced = times.slice(5);
    const rate = (spaced.length - 1) / ((spaced.at(-1)! - spaced[0]!) / 1000);
    console.info(`guessing: ${guesses.length} guesses, ${rate.toFixed(1)} guesses/s after the first 5`);
    expect(rate).toBeLessThanOrEqual(5);
    // Meanwhile (and after) the operator from another address gets in without waiting.
    const t0 = Date.now();
    const ok = await attempt(s.port, 'operator', 'right', '127.0.0.1');
    expect(ok.code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(1500);
    const warns = lines.filter((l) => /failed logins/.test(l.msg));
    expect(warns).toHaveLength(1);
    expect(warns[0]!.level).toBe(40);
    expect(lines.filter((l) => l.level === 30 && /credentials/.test(l.msg))).toEqual([]);
  }, 30_000);
});
