// One OPC UA server: client, session, and either a subscription (monitored items grouped by
// their sampling parameters) or batched Reads. node-opcua is loaded by `start()` only, so a site
// without OPC UA devices never pays its ~100 MB and half a second (issue 7).
import { resolve } from 'node:path';
import type * as Opcua from 'node-opcua-client';
import type { OPCUACertificateManager } from 'node-opcua-certificate-manager';
import type { Driver, DriverContext } from '../../src/runtime/driver.js';
import type { Reading, TagValue } from '../../src/runtime/types.js';
import type { TagConfig } from '../../src/config/sections/devices.js';
import { FieldgateError, errorMessage } from '../../src/errors.js';
import { loadOpcua, type OpcuaModule } from './load.js';
import { explainConnectError } from './trust.js';
import { describeUser, userIdentity } from './identity.js';
import { qualityOf } from './quality.js';
import { fromVariant, nameOf, toVariantValue } from './values.js';
import type { Connection, OpcuaTagExtra } from './schema.js';

type Ctx = DriverContext<Connection, OpcuaTagExtra>;
type Tag = TagConfig<OpcuaTagExtra>;

export class OpcuaDevice implements Driver {
  readonly poll?: (signal: AbortSignal) => Promise<Reading[]>;
  private ua: OpcuaModule | undefined;
  private pki: OPCUACertificateManager | undefined;
  private client: Opcua.OPCUAClient | undefined;
  private session: Opcua.ClientSession | undefined;
  private subscription: Opcua.ClientSubscription | undefined;
  private readonly dataTypes = new Map<string, number>();
  private stopped = true;

  constructor(private readonly ctx: Ctx) {
    if (ctx.device.connection.mode === 'poll') this.poll = (signal) => this.read(signal);
  }

  async start(): Promise<void> {
    this.stopped = false;
    const c = this.ctx.device.connection;
    const ua = await loadOpcua(this.ctx.logger);
    this.ua = ua;
    const pkiFolder = resolve(c.pki);
    // The operator manages trust by moving files; a fresh manager per connect rescans the folders,
    // so no file watcher has to outlive stop().
    const pki = new ua.OPCUACertificateManager({ rootFolder: pkiFolder, automaticallyAcceptUnknownCertificate: false, disableFileWatchers: true });
    this.pki = pki;
    await pki.initialize();
    const { initial, max } = this.ctx.device.backoff;
    const client = ua.OPCUAClient.create({
      applicationName: c.applicationName,
      clientCertificateManager: pki,
      securityMode: ua.MessageSecurityMode[c.securityMode],
      securityPolicy: ua.SecurityPolicy[c.securityPolicy],
      endpointMustExist: false,
      requestedSessionTimeout: c.sessionTimeout,
      keepSessionAlive: true,
      // No retry on the first connect: the supervisor owns that backoff, and an untrusted
      // certificate or a refused user must surface at once, not after minutes of retries.
      connectionStrategy: { maxRetry: 0, initialDelay: initial, maxDelay: max },
    });
    this.client = client;
    try {
      await client.connect(c.endpoint);
    } catch (e) {
      throw explainConnectError(e, c.endpoint, pkiFolder);
    }
    if (this.stopped) return;
    // Once connected, node-opcua's own reconnection keeps the session and its subscription
    // alive across network loss and server restarts (it recreates them when they are gone).
    (client.connectionStrategy as { maxRetry: number }).maxRetry = -1;
    client.on('connection_lost', () => this.linkDown('connection to the OPC UA server lost'));
    client.on('connection_reestablished', () => this.ctx.logger.info({ endpoint: c.endpoint }, 'OPC UA channel re-established'));
    let session: Opcua.ClientSession;
    try {
      session = await client.createSession(userIdentity(ua, c.auth));
    } catch (e) {
      throw explainConnectError(e, c.endpoint, pkiFolder, describeUser(c.auth));
    }
    this.session = session;
    session.on('session_restored', () => {
      this.ctx.logger.info({ endpoint: c.endpoint }, 'OPC UA session restored');
      if (!this.stopped) this.ctx.reportLink(true);
    });
    this.ctx.logger.info({ endpoint: c.endpoint, securityMode: c.securityMode, securityPolicy: c.securityPolicy, mode: c.mode }, 'OPC UA session open');
    if (c.mode === 'subscribe') await this.subscribe(ua, session);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const { subscription, session, client, pki } = this;
    this.subscription = undefined;
    this.session = undefined;
    this.client = undefined;
    this.pki = undefined;
    client?.removeAllListeners();
    // Each step may fail on a dead connection; the next one must still run.
    await subscription?.terminate().catch(() => undefined);
    await session?.close().catch(() => undefined);
    await client?.disconnect().catch(() => undefined);
    await pki?.dispose().catch(() => undefined);
  }

  async write(tag: TagConfig, value: TagValue, signal: AbortSignal): Promise<void> {
    const { ua, session } = this;
    if (ua === undefined || session === undefined) throw new FieldgateError('FG_ERR_DEVICE_IO', 'no OPC UA session');
    const t = tag as Tag;
    const nodeId = ua.coerceNodeId(t.nodeId);
    let dataType = this.dataTypes.get(t.nodeId);
    if (dataType === undefined) {
      // The Write must carry the node's own data type (Part 4, 5.10.4: BadTypeMismatch
      // otherwise), which a YAML tag type cannot always say (Int16 vs Int32, Float vs Double).
      dataType = (await abortable(session.getBuiltInDataType(nodeId), signal)) as number;
      this.dataTypes.set(t.nodeId, dataType);
    }
    const variantValue = toVariantValue(dataType, value);
    const status = await abortable(
      session.write({ nodeId, attributeId: ua.AttributeIds.Value, value: { value: { dataType, value: variantValue } } }),
      signal,
    );
    if (status.value !== 0) throw new FieldgateError('FG_ERR_WRITE_FAILED', `server refused the write to ${t.nodeId} (${nameOf(dataType)}): ${status.name}`);
  }

  private linkDown(why: string): void {
    if (this.stopped) return;
    this.ctx.logger.warn({ endpoint: this.ctx.device.connection.endpoint }, why);
    this.ctx.reportLink(false, why);
  }

  private async subscribe(ua: OpcuaModule, session: Opcua.ClientSession): Promise<void> {
    const c = this.ctx.device.connection;
    const sub = await session.createSubscription2({
      requestedPublishingInterval: c.publishingInterval,
      // Part 4, 5.13.2: lifetime must be at least three keep-alives.
      requestedMaxKeepAliveCount: 10,
      requestedLifetimeCount: 60,
      maxNotificationsPerPublish: 0,
      publishingEnabled: true,
      priority: 1,
    });
    this.subscription = sub;
    sub.on('error', (e: Error) => this.ctx.logger.warn({ err: e.message }, 'OPC UA subscription error'));
    sub.on('terminated', () => {
      if (!this.stopped) this.ctx.logger.warn({ endpoint: c.endpoint }, 'OPC UA subscription terminated by the server');
    });
    // One CreateMonitoredItems request per distinct parameter set, not one per tag.
    const groups = new Map<string, Tag[]>();
    for (const tag of this.ctx.device.tags) {
      const key = JSON.stringify([tag.samplingInterval ?? c.samplingInterval, tag.queueSize ?? c.queueSize, tag.serverDeadband ?? null]);
      groups.set(key, [...(groups.get(key) ?? []), tag]);
    }
    for (const tags of groups.values()) {
      const first = tags[0] as Tag;
      const group = await sub.monitorItems(
        tags.map((t) => ({ nodeId: t.nodeId, attributeId: ua.AttributeIds.Value })),
        {
          samplingInterval: first.samplingInterval ?? c.samplingInterval,
          queueSize: first.queueSize ?? c.queueSize,
          discardOldest: true,
          ...(first.serverDeadband !== undefined ? { filter: deadbandFilter(ua, first.serverDeadband) } : {}),
        },
        ua.TimestampsToReturn.Both,
      );
      group.on('changed', (_item, dataValue, index) => {
        const tag = tags[index];
        if (tag !== undefined && !this.stopped) this.ctx.publish([this.reading(tag, dataValue)]);
      });
      group.monitoredItems.forEach((item, i) => {
        const tag = tags[i];
        if (tag !== undefined && item.statusCode.value !== 0) {
          this.ctx.logger.warn({ tag: tag.name, nodeId: tag.nodeId, status: item.statusCode.name }, 'OPC UA monitored item refused');
          this.ctx.publish([{ tag: tag.name, value: null, quality: 'BAD', error: `monitored item refused: ${item.statusCode.name}` }]);
        }
      });
    }
  }

  private async read(signal: AbortSignal): Promise<Reading[]> {
    const { ua, session } = this;
    if (ua === undefined || session === undefined) throw new FieldgateError('FG_ERR_DEVICE_IO', 'no OPC UA session');
    const tags = this.ctx.device.tags;
    const size = this.ctx.device.connection.maxNodesPerRead;
    const readings: Reading[] = [];
    for (let i = 0; i < tags.length; i += size) {
      const batch = tags.slice(i, i + size);
      const values = await abortable(
        session.read(batch.map((t) => ({ nodeId: t.nodeId, attributeId: ua.AttributeIds.Value })), 0),
        signal,
      );
      batch.forEach((t, j) => {
        const dv = values[j];
        readings.push(dv === undefined ? { tag: t.name, value: null, quality: 'BAD', error: 'no value in the Read response' } : this.reading(t, dv));
      });
    }
    return readings;
  }

  private reading(tag: Tag, dv: Opcua.DataValue): Reading {
    const status = dv.statusCode;
    const quality = qualityOf(status.value);
    const sourceTime = dv.sourceTimestamp?.getTime();
    const stamp = sourceTime !== undefined && sourceTime > 0 ? { sourceTime } : {};
    if (quality === 'BAD') return { tag: tag.name, value: null, quality, error: status.name, ...stamp };
    try {
      const value = fromVariant(dv.value.dataType, dv.value.value, tag.type);
      return { tag: tag.name, value, quality, ...stamp, ...(quality === 'UNCERTAIN' ? { error: status.name } : {}) };
    } catch (e) {
      return { tag: tag.name, value: null, quality: 'BAD', error: errorMessage(e), ...stamp };
    }
  }
}

function deadbandFilter(ua: OpcuaModule, deadband: number | string): Opcua.DataChangeFilter {
  const percent = typeof deadband === 'string';
  return new ua.DataChangeFilter({
    trigger: ua.DataChangeTrigger.StatusValue,
    deadbandType: percent ? ua.DeadbandType.Percent : ua.DeadbandType.Absolute,
    deadbandValue: percent ? Number.parseFloat(deadband) : deadband,
  });
}

/** node-opcua requests cannot be cancelled; the poll or write stops waiting for them. */
function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolvePromise, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => (signal.removeEventListener('abort', onAbort), resolvePromise(v)),
      (e: unknown) => (signal.removeEventListener('abort', onAbort), reject(e)),
    );
  });
}
