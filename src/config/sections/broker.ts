import { z } from 'zod';
import { count, duration, host, port, size } from '../fields.js';

// The local MQTT broker (issue 3). The contract fixes `listeners[].host/port`; TLS, WebSocket,
// auth, ACLs and limits extend this section.

const tlsSchema = z
  .strictObject({
    cert: z.string().min(1).meta({ description: 'PEM certificate chain file' }),
    key: z.string().min(1).meta({ description: 'PEM private key file' }),
    ca: z.string().min(1).optional().meta({ description: 'PEM CA bundle used to verify client certificates' }),
    requireClientCert: z.boolean().default(false).meta({ description: 'refuse clients without a certificate signed by `ca`' }),
    identityFromCert: z
      .boolean()
      .default(false)
      .meta({ description: "use the client certificate's subject CN as the username (no password needed)" }),
  })
  .meta({ description: 'TLS for an mqtts or wss listener' });

export const listenerSchema = z
  .strictObject({
    host: host.default('127.0.0.1'),
    port: port.default(1883),
    protocol: z.enum(['mqtt', 'mqtts', 'ws', 'wss']).default('mqtt').meta({ description: 'mqtt (TCP), mqtts (TLS), ws or wss (WebSocket, subprotocol mqtt)' }),
    path: z.string().startsWith('/').default('/mqtt').meta({ description: 'HTTP path of a ws/wss listener' }),
    tls: tlsSchema.optional(),
    allowAnonymous: z
      .boolean()
      .optional()
      .meta({ description: 'accept clients without a username; default: only on loopback addresses' }),
    allowedOrigins: z
      .array(z.string().min(1))
      .optional()
      .meta({
        description:
          'ws/wss: browser Origins allowed to connect (e.g. https://hmi.site.local); default: any origin on a listener that needs a login, only same-origin pages on an anonymous one',
      }),
  })
  .superRefine((l, ctx) => {
    if ((l.protocol === 'mqtts' || l.protocol === 'wss') && l.tls === undefined) {
      ctx.addIssue({ code: 'custom', path: ['tls'], message: `a ${l.protocol} listener needs tls.cert and tls.key` });
    }
  });

const userSchema = z.strictObject({
  username: z.string().min(1),
  passwordHash: z
    .string()
    .regex(/^scrypt\$/, 'passwordHash must come from `fieldgate passwd` (starts with scrypt$)')
    .meta({ description: 'output of `fieldgate passwd`; never the clear password' }),
});

const aclSchema = z
  .strictObject({
    user: z.string().min(1).optional().meta({ description: 'username this rule is for; absent: every client, anonymous included' }),
    topic: z.string().min(1).meta({ description: 'topic filter; %u is the username, %c the client id' }),
    access: z.enum(['read', 'write', 'readwrite']).meta({ description: 'read = subscribe, write = publish' }),
  })
  .meta({ description: 'once any rule exists, everything not allowed by a rule is denied' });

const limitsSchema = z.strictObject({
  maxConnections: z.number().int().min(1).default(1000),
  connectionsPerSecondPerAddress: z
    .number()
    .min(0)
    .default(50)
    .meta({ description: 'new connections accepted per second from one source address (burst of the same size); 0 = no limit' }),
  maxPacketSize: size('largest packet accepted from a client').prefault('1MiB'),
  publishesPerSecondPerClient: z
    .number()
    .min(0)
    .default(0)
    .meta({ description: 'a faster publisher is slowed by pausing its socket (nothing is dropped); 0 = no limit' }),
  maxInflight: z.number().int().min(1).max(65535).default(100).meta({ description: 'QoS 1/2 messages in flight per client, each way (Receive Maximum)' }),
  maxQueued: z.number().int().min(0).default(1000).meta({ description: 'messages queued per client beyond the in-flight window; the oldest is dropped and counted' }),
  maxQueuedBytes: size('payload bytes queued per client').prefault('16MiB'),
  maxSessionExpiry: duration('longest a disconnected session is kept (MQTT 3.1.1 clean session 0 uses this)').prefault('7d'),
  maxKeepalive: duration('largest keep alive granted; MQTT 5 clients asking for more (or 0) are told this one').prefault('65535s'),
  connectTimeout: duration('time a new socket has, from TCP accept, to finish its TLS handshake, WebSocket upgrade and CONNECT').prefault('10s'),
  maxPendingConnections: count('sockets that have not completed CONNECT, all listeners together; beyond this new sockets are closed at accept', 256),
  maxPendingPerAddress: count('sockets that have not completed CONNECT from one source address, so one address cannot lock logins out', 32),
  topicAliasMaximum: z.number().int().min(0).max(65535).default(64),
  maxWriteBuffer: size('unsent bytes per client: beyond this QoS 0 messages to it are dropped, and a client still not reading is disconnected').prefault('4MiB'),
});

export const brokerSchema = z
  .strictObject({
    listeners: z.array(listenerSchema).min(1, 'at least one listener is needed'),
    users: z.array(userSchema).default([]),
    passwordFile: z.string().min(1).optional().meta({ description: 'file of `username:hash` lines, read at start' }),
    acls: z.array(aclSchema).default([]),
    limits: limitsSchema.prefault({}),
    sysInterval: z
      .union([duration('how often $SYS/broker/... topics are published'), z.literal(false)])
      .default(10_000)
      .meta({ description: 'period of the retained $SYS/broker/... statistics; false turns them off' }),
  })
  .meta({ description: 'the local MQTT broker for HMIs, scripts and devices on site' });

export type BrokerConfig = z.infer<typeof brokerSchema>;
export type BrokerListenerConfig = z.infer<typeof listenerSchema>;
export type BrokerLimits = z.infer<typeof limitsSchema>;
export type BrokerAclRule = z.infer<typeof aclSchema>;
