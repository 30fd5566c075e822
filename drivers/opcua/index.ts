// OPC UA client devices: subscriptions or batched reads, security, writes (issue 7). This module
// is loaded for every site, so it holds only the schema; node-opcua is imported by start().
import type { z } from 'zod';
import { defineDriver } from '../../src/runtime/driver.js';
import { check, connectionSchema, tagShape, type Connection, type OpcuaTagExtra } from './schema.js';
import { OpcuaDevice } from './opcua-device.js';

export const opcuaDriver = defineDriver<Connection, OpcuaTagExtra>({
  type: 'opcua',
  description: 'OPC UA server: monitored items or batched reads, security modes, username auth, writes',
  capabilities: { poll: true, write: true, subscribe: true, browse: true },
  connectionSchema: connectionSchema as unknown as z.ZodType<Connection>,
  tagShape,
  check,
  create: (ctx) => new OpcuaDevice(ctx),
});

export default opcuaDriver;
