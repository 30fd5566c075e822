// Every built-in driver, one line each. src/ never imports a driver; the gateway gets this list.
import type { DriverFactory } from '../src/runtime/driver.js';
import { opcuaDriver } from './opcua/index.js';
import { serialDriver } from './serial/index.js';
import { simulatorDriver } from './simulator/index.js';

export const builtinDrivers: readonly DriverFactory[] = [simulatorDriver, serialDriver, opcuaDriver];
