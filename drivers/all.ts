// Every built-in driver, one line each. src/ never imports a driver; the gateway gets this list.
// A driver module must stay light: heavy protocol stacks (node-opcua) load in start().
import type { DriverFactory } from '../src/runtime/driver.js';
import { modbusDriver } from './modbus/index.js';
import { opcuaDriver } from './opcua/index.js';
import { serialDriver } from './serial/index.js';
import { simulatorDriver } from './simulator/index.js';

export const builtinDrivers: readonly DriverFactory[] = [simulatorDriver, modbusDriver, serialDriver, opcuaDriver];
