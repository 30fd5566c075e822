import { z } from 'zod';
import { duration } from '../fields.js';
import { ackPrefix, brokerUrl, protocolVersion, tlsSchema } from './broker-connection.js';
import { filtersOverlap, mapTopic } from '../../mqtt/topic-filter.js';

// `500` (messages/s), `"500/s"`, `"2MiB/s"` or `"64KiB/s"`; 0 means unpaced.
const RATE = /^(\d+(?:\.\d+)?)\s*(?:([kmg]i?b|b)\s*)?\/s$/i;
const BYTE_UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

export type ReplayRate = { unit: 'messages' | 'bytes'; perSecond: number };

const replayRate = z
  .union([z.number(), z.string()], { error: 'expected a rate such as 500 (messages/s), "500/s" or "2MiB/s"' })
  .transform((v, ctx): ReplayRate => {
    if (typeof v === 'number') {
      if (!Number.isFinite(v) || v < 0) {
        ctx.addIssue({ code: 'custom', message: `rate must be a non-negative number of messages per second, got ${v}` });
        return z.NEVER;
      }
      return { unit: 'messages', perSecond: v };
    }
    const m = RATE.exec(v.trim());
    if (m === null) {
      ctx.addIssue({ code: 'custom', message: `"${v}" is not a rate (use e.g. 500/s for messages or 2MiB/s for bytes)` });
      return z.NEVER;
    }
    const n = Number(m[1]);
    const unit = m[2]?.toLowerCase();
    if (unit === undefined) return { unit: 'messages', perSecond: n };
    return { unit: 'bytes', perSecond: Math.round(n * (BYTE_UNITS[unit] ?? NaN)) };
  })
  .meta({ description: 'backlog replay pace: 500 or "500/s" (messages/s), "2MiB/s" (bytes/s); 0 = as fast as acks allow. Live data is never paced.' });

const qos = z.union([z.literal(0), z.literal(1), z.literal(2)], { error: 'qos must be 0, 1 or 2' });

/** A topic rule of the bridge: a filter on one side and the prefix it takes on the other. */
function topicRule(from: string, to: string, description: string) {
  return z
    .strictObject({
      from: z.string().min(1).meta({ description: from }),
      to: z.string().optional().meta({ description: `${to} prefix that replaces the filter's fixed prefix; default: same topic` }),
      qos: qos.default(1),
    })
    .meta({ description });
}

const forwardRule = topicRule('local broker topic filter, e.g. site/line1/#', 'upstream', 'a local topic forwarded upstream through the outbox');
const commandRule = topicRule('upstream topic filter, e.g. central/cmd/site1/#', 'local', 'an upstream topic delivered to the local broker (commands)');

const upstreamUrl = brokerUrl('expected the upstream broker URL');

// Issue 17: one server of an ordered list. What it leaves out comes from the section itself
// (protocolVersion, username, password, tls), so a cluster's nodes need only their URLs.
const serverSchema = z
  .strictObject({
    url: upstreamUrl.meta({ description: 'this server, e.g. mqtts://central-b.example:8883' }),
    protocolVersion: protocolVersion.optional().meta({ description: 'default: upstream.protocolVersion' }),
    username: z.string().optional().meta({ description: 'default: upstream.username' }),
    password: z.string().optional().meta({ description: 'default: upstream.password; use ${env:NAME} or ${file:/path}' }),
    tls: tlsSchema.optional().meta({ description: 'default: upstream.tls' }),
  })
  .meta({ description: 'one MQTT server of the list' });

// Sparkplug 3.0 with several MQTT servers: connected to one at a time, walked in order.
const failoverSchema = z
  .strictObject({
    retries: z
      .number()
      .int()
      .min(0)
      .max(100)
      .default(1)
      .meta({ description: 'failed reconnects to the same server (after reconnect.min backoff) before walking to the next one' }),
    preferFirst: z.boolean().default(true).meta({ description: 'go back to the first server when it accepts TCP connections again, after the dwell on another one' }),
    dwell: duration('least time on another server before going back to the first (doubles after a return that fails)').prefault('5m'),
  })
  .prefault({})
  .meta({ description: 'with upstream.servers: when to leave a server and when to go back to the first (docs/operator-guide.md, "High availability")' });

export const upstreamSchema = z
  .strictObject({
    url: upstreamUrl.optional().meta({ description: 'central broker, e.g. mqtts://central.example:8883 (the one-server form of upstream.servers)' }),
    servers: z
      .array(serverSchema)
      .min(1, 'servers needs at least one server')
      .optional()
      .meta({ description: 'several MQTT servers, in order of preference: connected one at a time, the next one after a loss (instead of url)' }),
    failover: failoverSchema,
    protocolVersion: protocolVersion.default(5),
    clientId: z.string().min(1).optional().meta({ description: 'default: fieldgate-<group>-<node>' }),
    username: z.string().optional(),
    password: z.string().optional().meta({ description: 'use ${env:NAME} or ${file:/path}; never written to logs' }),
    tls: tlsSchema.optional(),
    keepalive: duration('MQTT keep alive').prefault('30s'),
    connectTimeout: duration('give up a connection attempt after').prefault('10s'),
    reconnect: z
      .strictObject({
        min: duration('first retry delay').prefault('1s'),
        max: duration('longest retry delay').prefault('60s'),
        jitter: z.number().min(0).max(1).default(0.5).meta({ description: 'fraction of each delay that is randomised, so a fleet does not reconnect in step' }),
      })
      .prefault({})
      .meta({ description: 'exponential backoff with jitter' }),
    inflight: z
      .number()
      .int()
      .min(1)
      // 65535 packet ids minus the 1023 mqtt.js keeps for births, fences and subscriptions
      // (src/bridge/packet-ids.ts): a larger window could never fill.
      .max(64512)
      .default(100)
      .meta({ description: 'records sent and not yet acknowledged; also the most that can be sent twice after a crash' }),
    maxQos: qos.default(2).meta({ description: 'highest QoS the upstream supports (RabbitMQ: 1); higher records are downgraded with a warning' }),
    replay: z
      .strictObject({ rate: replayRate.prefault(0) })
      .prefault({})
      .meta({ description: 'how the backlog is drained after an outage' }),
    confirm: z
      .enum(['qos1', 'host', 'fence'], { error: 'confirm must be qos1, host or fence' })
      .default('qos1')
      .meta({
        description:
          'what deletes a record from the outbox (docs/store-and-forward.md): qos1 = its own PUBACK, DATA/DEATH sent at QoS 1 (survives a broker crash on RabbitMQ and persistent brokers); host = the central consumer\'s ack on <ackPrefix>/<group>/<node> (survives any broker crash); fence = a later QoS 1 fence PUBLISH\'s PUBACK, DATA at QoS 0 (only "the broker read it")',
      }),
    ackPrefix: ackPrefix('confirm: host: the consumer publishes {"epoch","through"} retained at QoS 1 on <ackPrefix>/<group>/<node>'),
    fenceTopic: z
      .union([z.string().min(1).regex(/^[^#+]+$/, 'fenceTopic is a topic name, not a filter'), z.literal(false)])
      .optional()
      .meta({
        description:
          'confirm: fence only: topic of the QoS 1 "fence" PUBLISH whose PUBACK confirms the QoS 0 Sparkplug DATA sent before it; default fieldgate/fence/<group>/<node>; false: QoS 0 counts as sent once written',
      }),
    forward: z.array(forwardRule).default([]).meta({ description: 'local topics sent upstream through the outbox' }),
    commands: z.array(commandRule).default([]).meta({ description: 'upstream topics delivered to the local broker' }),
  })
  .superRefine((cfg, ctx) => {
    // A forwarded topic that a command filter matches would come straight back down: a loop.
    cfg.forward.forEach((f, i) => {
      const sends = mapTopic(f.from, f.to, f.from);
      cfg.commands.forEach((c, j) => {
        if (filtersOverlap(sends, c.from)) {
          ctx.addIssue({ code: 'custom', path: ['forward', i, 'to'], message: `forwards to ${sends}, which commands[${j}] (${c.from}) brings back down: a loop` });
        }
      });
    });
    // Issue 17: url is the one-server shorthand of servers; both would leave it unclear which wins.
    if (cfg.url === undefined && cfg.servers === undefined) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'set upstream.url (one server) or upstream.servers (a list)' });
    }
    if (cfg.url !== undefined && cfg.servers !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['servers'], message: 'set either upstream.url or upstream.servers, not both (url is the one-server form)' });
    }
    if (cfg.reconnect.min > cfg.reconnect.max) {
      ctx.addIssue({ code: 'custom', path: ['reconnect', 'min'], message: 'reconnect.min must not exceed reconnect.max' });
    }
  })
  .meta({ description: 'the central MQTT broker that receives the Sparkplug stream' });

export type UpstreamConfig = z.infer<typeof upstreamSchema>;
