// The modbus driver: Modbus TCP, RTU on a serial port and RTU over TCP, built on modbus-serial.
// See README.md for the addressing rules and example.yaml for a full site file.
import { defineDriver, type DriverFactory } from '../../src/runtime/driver.js';
import { describeTag, modbusCommands } from './commands.js';
import { ModbusDeviceDriver } from './device.js';
import { LineRegistry } from './line.js';
import { checkDevice, connectionSchema, resolveDefaults, tagShape, type ModbusConnection, type ModbusTagFields } from './schema.js';

/**
 * A factory with its own line registry. Devices created by one factory that name the same
 * endpoint share one line (one socket or serial port, one queue).
 */
export function createModbusDriver(): DriverFactory {
  const lines = new LineRegistry();
  return defineDriver<ModbusConnection, ModbusTagFields>({ connectionSchema, tagShape, check: checkDevice, resolveDefaults }, {
    type: 'modbus',
    description: 'Modbus TCP, RTU (serial) and RTU over TCP: coils, discrete inputs, holding and input registers',
    capabilities: { poll: true, write: true, subscribe: false, browse: false },
    create: (ctx) => new ModbusDeviceDriver(ctx, lines),
    describeTag,
    commands: modbusCommands,
  });
}

export const modbusDriver = createModbusDriver();
export default modbusDriver;
