// Serial-line ASCII devices (scales, barcode readers, GPS receivers, analysers): frames cut by
// delimiter, length, markers or silence, parsed by regex, CSV column or JSON path (issue 7).
import { defineDriver } from '../../src/runtime/driver.js';
import type { SerialTagExtra } from './parse.js';
import { check, connectionSchema, tagShape, type Connection } from './schema.js';
import { SerialDevice } from './serial-device.js';
import { serialCommands } from './commands.js';

export const serialDriver = defineDriver<Connection, SerialTagExtra>({ connectionSchema, tagShape, check }, {
  type: 'serial',
  description: 'line-oriented ASCII device on a serial port (RS-232/485, USB serial): listen or request/response',
  capabilities: { poll: true, write: false, subscribe: true, browse: false },
  create: (ctx) => new SerialDevice(ctx),
  commands: serialCommands,
});

export default serialDriver;
