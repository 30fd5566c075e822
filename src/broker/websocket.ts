// WebSocket listeners: not built yet (issue 3, step 6). Refusing at start is better than a
// listener that silently does nothing.
import type { BrokerListenerConfig } from '../config/sections/broker.js';
import { FieldgateError } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import type { AcceptedStream, Listener } from './listener.js';

export async function listenWebSocket(config: BrokerListenerConfig, _onStream: (s: AcceptedStream) => void, _logger: Logger): Promise<Listener> {
  throw new FieldgateError('FG_ERR_LISTEN', `broker listener ${config.protocol}://${config.host}:${config.port}: WebSocket listeners are not available in this build`);
}
